/**
 * Every relative link in the README and the docs points at a file that exists, and every
 * `#anchor` at a heading of that file (GitHub's slugs), so moving a section between files
 * cannot leave a dead link behind.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** README.md and the Markdown under docs/, bench/, vendor/, plus the console's README. */
function markdownFiles(): string[] {
  const files = ['README.md', 'apps/admin/README.md'];
  for (const dir of ['docs', 'bench', 'vendor']) {
    for (const entry of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.md')) files.push(relative(root, join(entry.parentPath, entry.name)));
    }
  }
  return files.sort();
}

/** The text outside fenced code blocks, line by line (a link in an example is not a link). */
function proseLines(text: string): string[] {
  let fenced = false;
  return text.split('\n').filter((line) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    return !fenced && !/^\s*(```|~~~)/.test(line);
  });
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens, -1, -2… for repeats. */
function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const plain = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** `[text](target)` links that stay inside the repository (no scheme, no protocol-relative URL). */
function relativeLinks(text: string): string[] {
  const links: string[] = [];
  for (const line of proseLines(text)) {
    const code = line.replace(/`[^`]*`/g, '');
    for (const m of code.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!;
      if (!/^([a-z][a-z0-9+.-]*:|\/\/)/i.test(target)) links.push(target);
    }
  }
  return links;
}

describe('links in the README and docs', () => {
  const files = markdownFiles();

  it('finds the README, the docs and their links', () => {
    expect(files).toContain('README.md');
    expect(files.filter((f) => f.startsWith('docs/')).length).toBeGreaterThan(0);
    expect(relativeLinks(readFileSync(join(root, 'README.md'), 'utf8')).length).toBeGreaterThan(5);
  });

  it.each(files)('%s: every relative link and anchor resolves', (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const broken: string[] = [];
    for (const link of relativeLinks(text)) {
      const [path, anchor] = link.split('#', 2) as [string, string | undefined];
      const target = path === '' ? join(root, file) : join(root, dirname(file), decodeURIComponent(path));
      if (!target.startsWith(root) || !existsSync(target)) {
        broken.push(`${link}: no such file`);
        continue;
      }
      if (anchor === undefined || anchor === '' || !statSync(target).isFile() || !target.endsWith('.md')) continue;
      if (!headingAnchors(readFileSync(target, 'utf8')).has(decodeURIComponent(anchor).toLowerCase())) broken.push(`${link}: no such heading`);
    }
    expect(broken).toEqual([]);
  });

  it('slugs headings the way GitHub does', () => {
    const anchors = headingAnchors(
      '# 对接 one-api（LLM API 网关）\n## API 密钥\n## API 密钥\n### 图像生成 (Image)\n```\n# not a heading\n```\n## `npm test` & more',
    );
    expect([...anchors]).toEqual(['对接-one-apillm-api-网关', 'api-密钥', 'api-密钥-1', '图像生成-image', 'npm-test--more']);
  });
});
