// Generates the JSON schemas of the gateway's own answers (/api, /health) from the TypeScript
// types named in apps/api/src/openapi/api-types.ts (ApiSchemas), for the API document (/docs):
//   node scripts/api-schemas.ts            → writes apps/api/src/openapi/api-schemas.json
//   node scripts/api-schemas.ts --check    → exits 1 when that file differs from a fresh generation
// test/e2e/docs.e2e-spec.ts checks the file against the types.
import { readFileSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';
import { render, type Json, type JsonObject } from './openai-schemas.ts';

const root = new URL('..', import.meta.url);
export const TYPES_PATH = fileURLToPath(new URL('apps/api/src/openapi/api-types.ts', root));
export const GENERATED_PATH = fileURLToPath(new URL('apps/api/src/openapi/api-schemas.json', root));
const ROOT_TYPE = 'ApiSchemas';

export interface GeneratedApiSchemas {
  /** Component name → JSON schema (2020-12 compatible, as OpenAPI 3.1 uses); sorted by name. */
  schemas: Record<string, JsonObject>;
}

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `#/definitions/X` → `#/components/schemas/X`, everywhere. */
function rewriteRefs(value: Json): Json {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, sub] of Object.entries(value)) {
    if (key === '$ref' && typeof sub === 'string') {
      if (!sub.startsWith('#/definitions/')) throw new Error(`api-schemas: unexpected $ref ${sub}`);
      out.$ref = `#/components/schemas/${decodeURIComponent(sub.slice('#/definitions/'.length))}`;
    } else {
      out[key] = rewriteRefs(sub);
    }
  }
  return out;
}

/** The Chinese description first, then the type's own (English) comment, if any. */
function describe(schema: JsonObject, zh: Json | undefined): JsonObject {
  if (typeof zh !== 'string') throw new Error('api-schemas: every ApiSchemas member needs a (Chinese) doc comment');
  const own = typeof schema.description === 'string' ? `\n\n${schema.description}` : '';
  return { ...schema, description: `${zh}${own}` };
}

export function generateApiSchemas(): GeneratedApiSchemas {
  const generator = createGenerator({
    path: TYPES_PATH,
    tsconfig: fileURLToPath(new URL('tsconfig.json', root)),
    type: ROOT_TYPE,
    expose: 'export',
    topRef: true,
    jsDoc: 'extended',
    sortProps: true,
    additionalProperties: false,
    // Type errors are the compiler's job (npm run typecheck); this only reads the types.
    skipTypeCheck: true,
  });
  const generated = generator.createSchema(ROOT_TYPE) as JsonObject;
  const definitions = generated.definitions;
  if (!isObject(definitions)) throw new Error('api-schemas: the generator returned no definitions');
  const top = definitions[ROOT_TYPE];
  if (!isObject(top) || !isObject(top.properties)) throw new Error(`api-schemas: ${ROOT_TYPE} is not an interface`);

  const schemas: Record<string, JsonObject> = {};
  for (const [name, schema] of Object.entries(definitions)) {
    if (name !== ROOT_TYPE && isObject(schema)) schemas[name] = schema;
  }
  for (const [name, member] of Object.entries(top.properties)) {
    if (!isObject(member)) continue;
    const { description, ...schema } = member;
    // `Name: Name` points at the type's own definition: describe that one; anything else
    // (arrays, aliases) becomes a component of its own.
    const own = schema.$ref === `#/definitions/${name}` && Object.keys(schema).length === 1 ? schemas[name] : undefined;
    schemas[name] = describe(own ?? schema, description);
  }
  const sorted = Object.keys(schemas).sort();
  return { schemas: Object.fromEntries(sorted.map((name) => [name, rewriteRefs(schemas[name]!) as JsonObject])) };
}

if (import.meta.main) {
  const fresh = generateApiSchemas();
  if (process.argv.includes('--check')) {
    const committed: unknown = JSON.parse(readFileSync(GENERATED_PATH, 'utf8'));
    if (!isDeepStrictEqual(committed, fresh)) {
      console.error(`${GENERATED_PATH} is out of date: run node scripts/api-schemas.ts`);
      process.exit(1);
    }
    console.log(`${GENERATED_PATH} is up to date (${Object.keys(fresh.schemas).length} schemas)`);
  } else {
    writeFileSync(GENERATED_PATH, await render(fresh, GENERATED_PATH));
    console.log(`Wrote ${Object.keys(fresh.schemas).length} schemas to ${GENERATED_PATH}`);
  }
}
