/**
 * The endpoint list exists once: the OpenAPI document (/docs-json), which docs.e2e-spec.ts holds
 * to every route the app serves. The two lists written for people, docs/admin-api.md's table and
 * the console's API 文档 page (api-docs-content.ts), keep their own Chinese wording, so they are
 * not generated: they are checked here to name exactly the document's operations, so an endpoint
 * added or removed in one place and not the others fails.
 */
import { readFileSync } from 'node:fs';
import { startGateway, type Gateway } from '../support/gateway.ts';

interface Endpoint {
  method: string;
  path: string;
}

/**
 * Loaded at run time: the console is type-checked by its own tsconfig (extensionless imports),
 * which a static import would pull under the API's settings.
 */
const CONSOLE_CONTENT = '../../apps/admin/src/app/pages/api-docs/api-docs-content.ts';
const { V1_ENDPOINTS, ADMIN_ENDPOINTS } = (await import(CONSOLE_CONTENT)) as {
  V1_ENDPOINTS: readonly Endpoint[];
  ADMIN_ENDPOINTS: ReadonlyArray<{ rows: readonly Endpoint[] }>;
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

let gw: Gateway;
/** `GET /api/keys/{id}`, sorted. */
let documented: string[];

beforeAll(async () => {
  gw = await startGateway(null);
  const doc = (await (await fetch(`${gw.url}/docs-json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  documented = Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).flatMap((method) => (METHODS.includes(method) ? [`${method.toUpperCase()} ${path}`] : [])))
    .sort();
  expect(documented.length).toBeGreaterThan(40);
});

afterAll(() => gw?.close());

/** The rows of docs/admin-api.md's table under `# 管理 API`: "| `GET` / `PATCH` | `/api/keys/{id}` | 说明 |". */
function documentedOperations(): string[] {
  const page = readFileSync(new URL('../../docs/admin-api.md', import.meta.url), 'utf8');
  const section = page.split(/^# 管理 API$/m)[1]?.split(/^#{1,3} /m)[0];
  if (!section) throw new Error('docs/admin-api.md has no "# 管理 API" section');
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  expect(rows.length).toBeGreaterThan(20);
  return rows.flatMap((row) => {
    const [methods, path] = row.split(' | ');
    const match = /^`(\/[^`\s]*)`$/.exec(path ?? '');
    if (!match) throw new Error(`docs/admin-api.md 管理 API: one path per row, in backticks: ${row}`);
    return methods!
      .slice(2)
      .split(' / ')
      .map((m) => `${m.replaceAll('`', '')} ${match[1]}`);
  });
}

/** Rows like { method: 'GET · PATCH', path: '/api/keys/{id}' }. */
const consoleOperations = (rows: readonly Endpoint[]) => rows.flatMap((e) => e.method.split(' · ').map((m) => `${m} ${e.path}`));

describe('every list of endpoints names exactly the operations of the OpenAPI document', () => {
  it('docs/admin-api.md 管理 API: every operation outside /v1 (the /v1 ones have sections of their own)', () => {
    const listed = documentedOperations();
    expect(listed.length).toBe(new Set(listed).size);
    expect(listed.sort()).toEqual(documented.filter((op) => !op.split(' ')[1]!.startsWith('/v1/')));
  });

  it('the console’s API 文档 page: the /v1 list and the admin API groups, together', () => {
    const listed = [...consoleOperations(V1_ENDPOINTS), ...consoleOperations(ADMIN_ENDPOINTS.flatMap((g) => g.rows))];
    expect(listed.length).toBe(new Set(listed).size);
    // The page also links Swagger UI itself, which the document does not list.
    expect(listed.filter((op) => op !== 'GET /docs').sort()).toEqual(documented);
  });
});
