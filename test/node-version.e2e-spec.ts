/**
 * On a Node.js older than `engines`, `npm start` and `npm test` stop at once with one message in
 * Chinese and English that names the fix, instead of failing minutes later in the console build
 * or on a missing `node:sqlite` (scripts/check-node.mjs, run by prestart and pretest).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const script = fileURLToPath(new URL('../scripts/check-node.mjs', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string; fix: string };
  scripts: Record<string, string>;
};
/** The Debian Node.js the machine came with (20 on CI): the one scripts/use-node24.sh replaces. */
const SYSTEM_NODE = '/usr/bin/node';

function check(node: string, version?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(node, version === undefined ? [script] : [script, version], { cwd: root, encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectRefusal(result: ReturnType<typeof check>, version: string): void {
  expect(result.status).toBe(1);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toContain(`需要 Node.js ${pkg.engines.node}，当前是 v${version}`);
  expect(lines[1]).toContain(`Node.js ${pkg.engines.node} is required, this is v${version}`);
  for (const line of lines) expect(line).toContain('`source scripts/use-node24.sh`');
}

describe('the Node.js version check', () => {
  it('states the console build’s minimum, Angular’s engines (no other dependency asks for more)', () => {
    const angular = JSON.parse(readFileSync(new URL('../node_modules/@angular/build/package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(angular.engines.node);
  });

  it('runs first in npm start and npm test', () => {
    expect(pkg.scripts.prestart).toMatch(/^node scripts\/check-node\.mjs && /);
    expect(pkg.scripts.pretest).toBe('node scripts/check-node.mjs');
    expect(readFileSync(new URL('../.npmrc', import.meta.url), 'utf8')).toMatch(/^engine-strict=true$/m);
  });

  it('accepts the running Node.js silently', () => {
    expect(check(process.execPath)).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it.each([
    ['20.20.2', false],
    ['22.12.0', false],
    ['22.22.2', false],
    ['22.22.3', true],
    ['22.30.0', true],
    ['23.11.0', false],
    ['24.14.0', false],
    ['24.15.0', true],
    ['25.2.1', false],
    ['26.0.0', true],
    ['27.1.0', true],
  ])('Node.js %s: accepted %s', (version, accepted) => {
    const result = check(process.execPath, version);
    if (accepted) expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
    else expectRefusal(result, version);
  });

  it(`is parsed and run by the machine's older Node.js (${SYSTEM_NODE}), which it refuses with the message`, () => {
    const own = spawnSync(SYSTEM_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: 10_000 });
    expect(own.status).toBe(0);
    const version = own.stdout.trim();
    expectRefusal(check(SYSTEM_NODE, '20.20.2'), '20.20.2');
    // Its verdict on itself is the one the current Node.js gives for that version.
    const verdict = check(SYSTEM_NODE);
    expect(verdict).toEqual(check(process.execPath, version));
    if (verdict.status !== 0) expectRefusal(verdict, version);
  });

  it(`npm install on the machine's older Node.js stops at once, before installing anything, with npm's refusal naming the fix in both languages`, () => {
    // engine-strict makes npm refuse; npm prints `engines` whole, so its `fix` entry is the message.
    expect(pkg.engines.fix).toContain('source scripts/use-node24.sh');
    expect(pkg.engines.fix).toMatch(/[\u4e00-\u9fff]/);
    const dir = mkdtempSync(join(tmpdir(), 'g4f-engines-'));
    for (const file of ['package.json', 'package-lock.json', '.npmrc']) copyFileSync(join(root, file), join(dir, file));
    const started = Date.now();
    const r = spawnSync('npm', ['install', '--dry-run', '--offline', '--no-audit', '--no-fund'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME },
    });
    const out = `${r.stdout}${r.stderr}`;
    expect(out).toContain('EBADENGINE');
    expect(out).toContain('source scripts/use-node24.sh');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
  });
});
