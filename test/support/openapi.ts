/**
 * Validates gateway responses against OpenAI's official OpenAPI spec
 * (`vendor/openai-openapi/openai-openapi.yaml`, see its README for source and licence).
 *
 * The spec declares `openapi: 3.1.0` (JSON Schema 2020-12), so it is validated with Ajv2020,
 * but it still carries OpenAPI 3.0 / draft 2019-09 leftovers that are normalized first:
 *   - `nullable: true` (~110 places, e.g. stream `finish_reason`, stream `usage`) becomes a
 *     type union (`type: [T, 'null']`, plus `null` in `enum`) or `anyOf: [schema, {type:'null'}]`
 *     when the schema has no plain `type` (e.g. `{$ref, nullable}`);
 *   - boolean `exclusiveMinimum`/`exclusiveMaximum` (3.0 style) become numeric (2020-12 style);
 *   - `$recursiveRef: '#'` (2019-09, CompoundFilter) becomes a `$ref` to the enclosing component.
 * Component refs `#/components/schemas/X` are rewritten to `#/$defs/X` of one schema document
 * registered under SPEC_ID, so every component resolves. OpenAPI-only keywords (`x-*`,
 * `discriminator`, `example`) and three typos in the spec (`optional`, `min_items`, `max_items`)
 * are registered as no-op annotations; any other unknown keyword makes compilation throw
 * (`strictSchema`), so a spec change can never silently weaken validation.
 *
 * The YAML (~3 MB) is parsed once, lazily; each named schema is compiled once, lazily.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** test/support/openapi.ts -> <repo root>/vendor/openai-openapi/openai-openapi.yaml */
const SPEC_PATH = fileURLToPath(new URL('../../vendor/openai-openapi/openai-openapi.yaml', import.meta.url));
const SPEC_ID = 'https://openai-openapi.spec/components.json';
const COMPONENT_REF_PREFIX = '#/components/schemas/';

/** Keywords the spec uses that are not JSON Schema 2020-12: accepted and ignored. */
const OPENAPI_ANNOTATIONS = ['discriminator', 'example', 'xml', 'externalDocs'];
/** Misspelled keywords present in the spec (`optional: true`, `min_items`/`max_items`): ignored like OpenAI's own tooling. */
const SPEC_TYPO_KEYWORDS = ['optional', 'min_items', 'max_items'];

/** Keywords whose value is a map of name -> subschema. */
const SCHEMA_MAP_KEYWORDS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
/** Keywords whose value is a single subschema. */
const SCHEMA_KEYWORDS = new Set([
  'items',
  'additionalItems',
  'additionalProperties',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
]);
/** Keywords whose value is an array of subschemas. */
const SCHEMA_ARRAY_KEYWORDS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);

interface Loaded {
  ajv: Ajv2020;
  names: ReadonlySet<string>;
}

let loaded: Loaded | undefined;
const validators = new Map<string, ValidateFunction>();

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rewrites one (sub)schema of component `component` into plain JSON Schema 2020-12. */
function normalizeSchema(schema: Json, component: string, xKeywords: Set<string>): Json {
  if (!isObject(schema)) return schema; // boolean schemas
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-')) xKeywords.add(key);
    if (SCHEMA_MAP_KEYWORDS.has(key) && isObject(value)) {
      const map: JsonObject = {};
      for (const [name, sub] of Object.entries(value)) map[name] = normalizeSchema(sub, component, xKeywords);
      out[key] = map;
    } else if (SCHEMA_KEYWORDS.has(key)) {
      out[key] = normalizeSchema(value, component, xKeywords);
    } else if (SCHEMA_ARRAY_KEYWORDS.has(key) && Array.isArray(value)) {
      out[key] = value.map((sub) => normalizeSchema(sub, component, xKeywords));
    } else if (key === '$ref') {
      if (typeof value !== 'string' || !value.startsWith(COMPONENT_REF_PREFIX)) {
        throw new Error(`openapi: unsupported $ref ${JSON.stringify(value)} in ${component}`);
      }
      out.$ref = `#/$defs/${value.slice(COMPONENT_REF_PREFIX.length)}`;
    } else if (key === '$recursiveRef') {
      // draft 2019-09; in this spec always '#' next to a `$recursiveAnchor: true` at the component root.
      if (value !== '#') throw new Error(`openapi: unsupported $recursiveRef ${JSON.stringify(value)} in ${component}`);
      out.$ref = `#/$defs/${component}`;
    } else if ((key === 'required' || key === 'enum') && Array.isArray(value)) {
      // The meta-schema requires unique items; the spec repeats some (e.g. ContainerResource.required).
      out[key] = value.filter((item, i) => value.findIndex((other) => JSON.stringify(other) === JSON.stringify(item)) === i);
    } else if (key === '$recursiveAnchor' || key === 'nullable') {
      // handled below / dropped
    } else {
      out[key] = value;
    }
  }

  // OpenAPI 3.0 boolean exclusiveMinimum/exclusiveMaximum -> 2020-12 numeric form.
  for (const [exclusive, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof out[exclusive] === 'boolean') {
      if (out[exclusive] === true && typeof out[bound] === 'number') {
        out[exclusive] = out[bound];
        delete out[bound];
      } else {
        delete out[exclusive];
      }
    }
  }

  if (schema.nullable !== true) return out;
  // OpenAPI 3.0 `nullable: true` -> JSON Schema null union.
  const type = out.type;
  const composite = '$ref' in out || 'allOf' in out || 'anyOf' in out || 'oneOf' in out;
  if (typeof type === 'string' && !composite) {
    out.type = type === 'null' ? type : [type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    if ('const' in out) return { anyOf: [out, { type: 'null' }] };
    return out;
  }
  if (Array.isArray(type) && !composite) {
    if (!type.includes('null')) out.type = [...type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [out, { type: 'null' }] };
}

function load(): Loaded {
  if (loaded) return loaded;
  const doc: unknown = parse(readFileSync(SPEC_PATH, 'utf8'));

  if (!isObject(doc) || typeof doc.openapi !== 'string' || !doc.openapi.startsWith('3.1')) {
    throw new Error(`openapi: expected an OpenAPI 3.1 document at ${SPEC_PATH}`);
  }
  const components = doc.components;
  const schemas = isObject(components) ? components.schemas : undefined;
  if (!isObject(schemas)) throw new Error(`openapi: no components.schemas in ${SPEC_PATH}`);

  const xKeywords = new Set<string>();
  const defs: JsonObject = {};
  for (const [name, schema] of Object.entries(schemas)) defs[name] = normalizeSchema(schema, name, xKeywords);

  const ajv = new Ajv2020({
    allErrors: true, // report every violation, not just the first
    strictSchema: true, // unknown keywords throw at compile time (see OPENAPI_ANNOTATIONS)
    strictTypes: false, // the spec often omits `type: object` next to `properties`
    strictTuples: false,
    strictRequired: false,
    allowUnionTypes: true,
    validateFormats: true,
  });
  addFormatsModule.default(ajv);
  // OpenAPI/OpenAI format for epoch seconds.
  ajv.addFormat('unixtime', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addVocabulary([...OPENAPI_ANNOTATIONS, ...SPEC_TYPO_KEYWORDS, ...xKeywords]);
  ajv.addSchema({ $id: SPEC_ID, $defs: defs });

  loaded = { ajv, names: new Set(Object.keys(defs)) };
  return loaded;
}

function validatorFor(schemaName: string): ValidateFunction {
  const cached = validators.get(schemaName);
  if (cached) return cached;
  const { ajv, names } = load();
  if (!names.has(schemaName)) {
    throw new Error(`openapi: unknown component schema '${schemaName}' (not in components.schemas)`);
  }
  const validate = ajv.compile({ $ref: `${SPEC_ID}#/$defs/${schemaName}` });
  validators.set(schemaName, validate);
  return validate;
}

function formatError(error: ErrorObject): string {
  const path = error.instancePath === '' ? '(root)' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  let detail = '';
  if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    detail = ` ${JSON.stringify(params.allowedValues)}`;
  } else if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    detail = ` '${params.additionalProperty}'`;
  } else if (error.keyword === 'const') {
    detail = ` ${JSON.stringify(params.allowedValue)}`;
  }
  return `${path} ${error.message ?? error.keyword}${detail} (${error.schemaPath.replace(`${SPEC_ID}#/$defs/`, '')})`;
}

/** Names of component schemas, e.g. 'CreateChatCompletionResponse', 'CreateChatCompletionStreamResponse', 'ListModelsResponse', 'Model', 'ErrorResponse', 'ImagesResponse'. */
export function validateSchema(schemaName: string, value: unknown): { valid: boolean; errors: string[] } {
  const validate = validatorFor(schemaName);
  const valid = validate(value);
  return { valid, errors: valid ? [] : (validate.errors ?? []).map(formatError) };
}

/** Jest helper: throws an Error listing every violation (path + message) when invalid. */
export function expectSchema(schemaName: string, value: unknown): void {
  const { valid, errors } = validateSchema(schemaName, value);
  if (valid) return;
  throw new Error(
    `Value does not match OpenAPI schema '${schemaName}' (${errors.length} violation(s)):\n` +
      errors.map((e) => `  - ${e}`).join('\n') +
      `\nValue: ${JSON.stringify(value, null, 2)?.slice(0, 2000)}`,
  );
}
