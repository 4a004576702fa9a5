import { readFileSync } from 'node:fs';
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
});
