import { readdirSync, readFileSync } from 'node:fs';
import { BUILTIN_PROVIDERS } from '../apps/api/src/providers/builtin-providers.ts';
import { PROVIDER_ENV_SUFFIXES } from '../apps/api/src/providers/provider-declaration.ts';
// @ts-expect-error: a plain .mjs script without type declarations
import { modelsTable } from '../scripts/models-table.mjs';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const readme = read('README.md');
/** The reference the README links to for every variable: the whole table lives here. */
const configuration = read('docs/configuration.md');
const catalog = JSON.parse(read('catalog/models.json')) as { models: Array<{ id: string }> };

describe('README', () => {
  it('keeps the two set-up lines: install-and-start, and the test command', () => {
    expect(readme).toMatch(/^npm install && npm start$/m);
    expect(readme).toMatch(/^npm test$/m);
  });

  it('stays short: the rest lives in docs/ and bench/README.md', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(300);
  });

  it('links every page of docs/, so each stays findable from the front page', () => {
    const pages = readdirSync(new URL('../docs/', import.meta.url)).filter((f) => f.endsWith('.md'));
    expect(pages.length).toBeGreaterThan(5);
    for (const page of pages) expect(readme).toContain(`](docs/${page}`);
    expect(readme).toContain('](bench/README.md');
  });

  it('states the catalog’s model count', () => {
    expect(readme).toContain(`共 **${catalog.models.length} 个模型**`);
  });
});

describe('docs/models.md', () => {
  it('lists exactly the catalog’s models (regenerate with node scripts/models-table.mjs)', () => {
    const table = (modelsTable as () => string)();
    expect(read('docs/models.md')).toContain(table);
    for (const m of catalog.models) expect(table).toContain(`| \`${m.id}\` |`);
  });
});

describe('docs/configuration.md', () => {
  it('documents every environment variable the config reads', () => {
    const source = read('apps/api/src/config/app-config.ts');
    // env.NAME, or a helper call like int(env, 'NAME', …) / parseSize(env.NAME ?? …, 'NAME').
    const names = new Set([...source.matchAll(/env\.([A-Z][A-Z0-9_]+)|\(env, '([A-Z][A-Z0-9_]+)'/g)].map((m) => (m[1] ?? m[2])!));
    expect(names.size).toBeGreaterThan(15);
    for (const name of names) expect(configuration).toContain(name);
  });

  it('documents every provider’s variables, as each provider’s declaration names them', () => {
    const source = read('apps/api/src/config/app-config.ts');
    // The config reads `${prefix}_SUFFIX` for every provider; the docs write them once as `<P>_SUFFIX`.
    const suffixes = [...source.matchAll(/`\$\{prefix\}_([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!);
    expect(new Set(suffixes)).toEqual(new Set(PROVIDER_ENV_SUFFIXES));
    for (const suffix of suffixes) expect(configuration).toContain(`<P>_${suffix}`);
    for (const p of BUILTIN_PROVIDERS) {
      expect(configuration).toContain(`\`${p.envPrefix}\``);
      for (const name of [...(p.keyAliases ?? []), ...(p.extraSettings ?? []).map((s) => s.env)]) expect(configuration).toContain(name);
    }
  });
});
