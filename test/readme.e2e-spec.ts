import { readFileSync } from 'node:fs';
import { BUILTIN_PROVIDERS } from '../apps/api/src/providers/builtin-providers.ts';
import { PROVIDER_ENV_SUFFIXES } from '../apps/api/src/providers/provider-declaration.ts';
// @ts-expect-error: a plain .mjs script without type declarations
import { modelsTable } from '../scripts/models-table.mjs';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('lists exactly the catalog’s models (regenerate with node scripts/models-table.mjs)', () => {
    const table = (modelsTable as () => string)();
    expect(readme).toContain(table);
    const catalog = JSON.parse(readFileSync(new URL('../catalog/models.json', import.meta.url), 'utf8')) as { models: Array<{ id: string }> };
    for (const m of catalog.models) expect(table).toContain(`| \`${m.id}\` |`);
  });

  it('keeps the two set-up lines: install-and-start, and the test command', () => {
    expect(readme).toMatch(/^npm install && npm start$/m);
    expect(readme).toMatch(/^npm test$/m);
  });

  it('documents every environment variable the config reads', () => {
    const source = readFileSync(new URL('../apps/api/src/config/app-config.ts', import.meta.url), 'utf8');
    // env.NAME, or a helper call like int(env, 'NAME', …) / parseSize(env.NAME ?? …, 'NAME').
    const names = new Set([...source.matchAll(/env\.([A-Z][A-Z0-9_]+)|\(env, '([A-Z][A-Z0-9_]+)'/g)].map((m) => (m[1] ?? m[2])!));
    expect(names.size).toBeGreaterThan(15);
    for (const name of names) expect(readme).toContain(name);
  });

  it('documents every provider’s variables, as each provider’s declaration names them', () => {
    const source = readFileSync(new URL('../apps/api/src/config/app-config.ts', import.meta.url), 'utf8');
    // The config reads `${prefix}_SUFFIX` for every provider; the README writes them once as `<P>_SUFFIX`.
    const suffixes = [...source.matchAll(/`\$\{prefix\}_([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!);
    expect(new Set(suffixes)).toEqual(new Set(PROVIDER_ENV_SUFFIXES));
    for (const suffix of suffixes) expect(readme).toContain(`<P>_${suffix}`);
    for (const p of BUILTIN_PROVIDERS) {
      expect(readme).toContain(`\`${p.envPrefix}\``);
      for (const name of [...(p.keyAliases ?? []), ...(p.extraSettings ?? []).map((s) => s.env)]) expect(readme).toContain(name);
    }
  });
});
