// Vendors the OpenAI component schemas the gateway's /v1 endpoints use into the repository, so
// that the API document (/docs) works without the 3 MB spec (Docker, offline):
//   node scripts/openai-schemas.ts            → writes apps/api/src/openapi/openai-schemas.json
//   node scripts/openai-schemas.ts --check    → exits 1 when that file differs from a fresh extraction
// Each schema is copied verbatim from vendor/openai-openapi/openai-openapi.yaml, with everything it
// references; test/e2e/docs.e2e-spec.ts checks the file against the spec.
import { readFileSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { parse } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const SPEC_PATH = fileURLToPath(new URL('../vendor/openai-openapi/openai-openapi.yaml', import.meta.url));
export const VENDORED_PATH = fileURLToPath(new URL('../apps/api/src/openapi/openai-schemas.json', import.meta.url));

/** The schemas /v1 names in its request bodies and answers; their references come along. */
export const OPENAI_ROOT_SCHEMAS = [
  'CreateChatCompletionRequest',
  'CreateChatCompletionResponse',
  'CreateChatCompletionStreamResponse',
  'ListModelsResponse',
  'Model',
  'ErrorResponse',
  'CreateImageRequest',
  'ImagesResponse',
  'CreateSpeechRequest',
  'CreateEmbeddingRequest',
  'CreateEmbeddingResponse',
  'CreateTranscriptionRequest',
  'CreateTranscriptionResponseJson',
  'CreateTranscriptionResponseDiarizedJson',
  'CreateTranscriptionResponseVerboseJson',
  'CreateResponse',
  'Response',
  'ResponseStreamEvent',
  'ResponseItemList',
] as const;

const COMPONENT_REF = '#/components/schemas/';

export interface VendoredOpenAISchemas {
  /** Where the schemas come from: the spec's title and version. */
  source: { title: string; version: string; openapi: string };
  roots: string[];
  /** Component name → schema, exactly as in the spec; sorted by name. */
  schemas: Record<string, JsonObject>;
}

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every `#/components/schemas/…` reference inside `value`; any other kind of reference is an error. */
function refsOf(value: Json, found: Set<string>, where: string): void {
  if (Array.isArray(value)) {
    for (const item of value) refsOf(item, found, where);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, sub] of Object.entries(value)) {
    if (key === '$ref' || key === '$recursiveRef' || key === '$dynamicRef') {
      // `$recursiveRef: '#'` (CompoundFilter, under the Responses schemas) is the schema itself: nothing more to take.
      if (key === '$recursiveRef' && sub === '#') continue;
      if (key !== '$ref' || typeof sub !== 'string' || !sub.startsWith(COMPONENT_REF)) {
        throw new Error(`openai-schemas: ${where} has an unsupported reference ${key}: ${JSON.stringify(sub)}`);
      }
      found.add(sub.slice(COMPONENT_REF.length));
    } else {
      refsOf(sub, found, where);
    }
  }
}

/** The root schemas and everything they reference, transitively, copied verbatim from `spec`. */
export function extractOpenAISchemas(spec: unknown, roots: readonly string[] = OPENAI_ROOT_SCHEMAS): VendoredOpenAISchemas {
  if (!isObject(spec) || typeof spec.openapi !== 'string' || !isObject(spec.info)) throw new Error('openai-schemas: not an OpenAPI document');
  const schemas = isObject(spec.components) ? spec.components.schemas : undefined;
  if (!isObject(schemas)) throw new Error('openai-schemas: the spec has no components.schemas');

  const taken = new Map<string, JsonObject>();
  const queue = [...roots];
  while (queue.length) {
    const name = queue.shift()!;
    if (taken.has(name)) continue;
    const schema = schemas[name];
    if (!isObject(schema)) throw new Error(`openai-schemas: the spec has no schema ${name}`);
    taken.set(name, schema);
    const refs = new Set<string>();
    refsOf(schema, refs, name);
    for (const ref of refs) if (!taken.has(ref)) queue.push(ref);
  }
  const sorted = [...taken.keys()].sort();
  return {
    source: { title: String(spec.info.title), version: String(spec.info.version), openapi: spec.openapi },
    roots: [...roots],
    schemas: Object.fromEntries(sorted.map((name) => [name, taken.get(name)!])),
  };
}

export function readSpec(path = SPEC_PATH): unknown {
  return parse(readFileSync(path, 'utf8'), { maxAliasCount: -1 });
}

/** The vendored file's text: JSON as the repository's Prettier settings print it. */
export async function render(value: unknown, path = VENDORED_PATH): Promise<string> {
  const options = (await resolveConfig(path)) ?? {};
  return format(JSON.stringify(value), { ...options, parser: 'json', filepath: path });
}

if (import.meta.main) {
  const fresh = extractOpenAISchemas(readSpec());
  if (process.argv.includes('--check')) {
    const vendored: unknown = JSON.parse(readFileSync(VENDORED_PATH, 'utf8'));
    if (!isDeepStrictEqual(vendored, fresh)) {
      console.error(`${VENDORED_PATH} is out of date: run node scripts/openai-schemas.ts`);
      process.exit(1);
    }
    console.log(`${VENDORED_PATH} is up to date (${Object.keys(fresh.schemas).length} schemas)`);
  } else {
    writeFileSync(VENDORED_PATH, await render(fresh));
    console.log(`Wrote ${Object.keys(fresh.schemas).length} schemas to ${VENDORED_PATH}`);
  }
}
