/**
 * The API document: Swagger UI at /docs, OpenAPI 3.1 at /docs-json. Checked from outside the
 * running gateway: the document is structurally valid and every reference resolves; every route
 * the app serves is documented (Chinese summary, the security its guard really enforces); the
 * /v1 schemas are OpenAI's, verbatim; the two committed schema files match a fresh extraction /
 * generation; the app's real answers and its validation agree with the documented schemas; and
 * the UI loads nothing from another host (asset checks, then a real Chromium page).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { ModulesContainer } from '@nestjs/core';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { chromium } from 'playwright-core';
import { parse as parseYaml } from 'yaml';
import apiSchemasFile from '../../apps/api/src/openapi/api-schemas.json' with { type: 'json' };
import openaiSchemasFile from '../../apps/api/src/openapi/openai-schemas.json' with { type: 'json' };
import { generateApiSchemas } from '../../scripts/api-schemas.ts';
import { extractOpenAISchemas, readSpec, type Json, type JsonObject } from '../../scripts/openai-schemas.ts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema, validateSchema } from '../support/openapi.ts';

const API_KEY = 'sk-docs-test-key';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const HAN = /\p{Script=Han}/u;
const ADMIN_SECURITY = [{ admin: [] }];
const CLIENT_SECURITY = [{ 'client-key': [] }, { 'client-key-header': [] }];

interface Operation {
  method: string;
  path: string;
  op: JsonObject;
}

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Deep equality of JSON values (fetched JSON comes from another realm, so util.isDeepStrictEqual would not do). */
const same = (a: unknown, b: unknown): boolean => {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => same(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && same(a[k], b[k]));
  }
  return a === b;
};

function obj(value: Json | undefined, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what} is not an object`);
  return value;
}

function operations(doc: JsonObject): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(obj(doc.paths, 'paths'))) {
    for (const method of METHODS) {
      const op = obj(item, path)[method];
      if (op !== undefined) out.push({ method, path, op: obj(op, `${method} ${path}`) });
    }
  }
  return out;
}

/** Every `$ref` string in `value`, with where it was found. */
function refs(value: Json, at = '#'): Array<{ ref: string; at: string }> {
  if (Array.isArray(value)) return value.flatMap((v, i) => refs(v, `${at}/${i}`));
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [{ ref: v, at }] : refs(v, `${at}/${k}`)));
}

function resolvePointer(doc: Json, ref: string): Json | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: Json | undefined = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObject(node) && Object.hasOwn(node, key)) node = node[key];
    else return undefined;
  }
  return node;
}

/** A structural check of OpenAPI 3.1: the parts this document uses, strictly (no unknown keys). */
const OPENAPI_31 = {
  type: 'object',
  required: ['openapi', 'info', 'paths', 'components'],
  additionalProperties: false,
  patternProperties: { '^x-': true },
  properties: {
    openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' },
    info: {
      type: 'object',
      required: ['title', 'version'],
      additionalProperties: false,
      properties: {
        title: { type: 'string', minLength: 1 },
        version: { type: 'string', minLength: 1 },
        description: { type: 'string' },
        contact: {},
        license: {},
      },
    },
    servers: { type: 'array', items: { type: 'object', required: ['url'], properties: { url: { type: 'string' } } } },
    tags: {
      type: 'array',
      items: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string' }, description: { type: 'string' } } },
    },
    paths: { type: 'object', propertyNames: { pattern: '^/' }, additionalProperties: { $ref: '#/$defs/pathItem' } },
    components: {
      type: 'object',
      additionalProperties: false,
      properties: {
        schemas: { type: 'object', additionalProperties: { type: ['object', 'boolean'] } },
        securitySchemes: { type: 'object', additionalProperties: { $ref: '#/$defs/securityScheme' } },
        headers: { type: 'object', additionalProperties: { $ref: '#/$defs/header' } },
      },
    },
    security: { $ref: '#/$defs/security' },
  },
  $defs: {
    reference: { type: 'object', required: ['$ref'], additionalProperties: false, properties: { $ref: { type: 'string' }, summary: {}, description: {} } },
    pathItem: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries([...METHODS.map((m) => [m, { $ref: '#/$defs/operation' }]), ['summary', {}], ['description', {}], ['parameters', {}]]),
    },
    operation: {
      type: 'object',
      required: ['responses'],
      additionalProperties: false,
      patternProperties: { '^x-': true },
      properties: {
        operationId: { type: 'string', minLength: 1 },
        summary: { type: 'string' },
        description: { type: 'string' },
        tags: { type: 'array', items: { type: 'string' } },
        parameters: { type: 'array', items: { anyOf: [{ $ref: '#/$defs/parameter' }, { $ref: '#/$defs/reference' }] } },
        requestBody: {
          type: 'object',
          required: ['content'],
          additionalProperties: false,
          properties: { description: { type: 'string' }, required: { type: 'boolean' }, content: { $ref: '#/$defs/content' } },
        },
        responses: {
          type: 'object',
          minProperties: 1,
          propertyNames: { pattern: '^([1-5](\\d\\d|XX)|default)$' },
          additionalProperties: { anyOf: [{ $ref: '#/$defs/response' }, { $ref: '#/$defs/reference' }] },
        },
        security: { $ref: '#/$defs/security' },
        deprecated: { type: 'boolean' },
      },
    },
    parameter: {
      type: 'object',
      required: ['name', 'in', 'schema'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1 },
        in: { enum: ['query', 'header', 'path', 'cookie'] },
        required: { type: 'boolean' },
        description: { type: 'string' },
        schema: { type: 'object' },
        example: {},
      },
      if: { properties: { in: { const: 'path' } } },
      then: { required: ['required'], properties: { required: { const: true } } },
    },
    response: {
      type: 'object',
      required: ['description'],
      additionalProperties: false,
      properties: {
        description: { type: 'string' },
        headers: { type: 'object', additionalProperties: { anyOf: [{ $ref: '#/$defs/header' }, { $ref: '#/$defs/reference' }] } },
        content: { $ref: '#/$defs/content' },
      },
    },
    content: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[a-z]+/[a-z0-9.+-]+$' },
      additionalProperties: {
        type: 'object',
        required: ['schema'],
        additionalProperties: false,
        properties: { schema: { type: ['object', 'boolean'] }, example: {}, examples: {} },
      },
    },
    header: {
      type: 'object',
      required: ['schema'],
      additionalProperties: false,
      properties: { description: { type: 'string' }, required: { type: 'boolean' }, schema: { type: 'object' } },
    },
    securityScheme: {
      type: 'object',
      required: ['type'],
      oneOf: [
        { properties: { type: { const: 'http' }, scheme: { type: 'string' } }, required: ['scheme'] },
        { properties: { type: { const: 'apiKey' }, in: { enum: ['header', 'query', 'cookie'] }, name: { type: 'string' } }, required: ['in', 'name'] },
      ],
    },
    security: { type: 'array', items: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } } },
  },
};

/** A validator for the document's own component schemas (refs rewritten into one schema's $defs). */
function componentValidator(doc: JsonObject): (name: string, value: unknown) => string[] {
  const schemas = obj(obj(doc.components, 'components').schemas, 'components.schemas');
  /** `component`: the component being rewritten, whose draft 2019-09 `$recursiveRef: '#'` (OpenAI's CompoundFilter) is itself. */
  const rewrite = (value: Json, component?: string): Json => {
    if (Array.isArray(value)) return value.map((v) => rewrite(v, component));
    if (!isObject(value)) return value;
    return Object.fromEntries(
      Object.entries(value).flatMap(([k, v]): Array<[string, Json]> => {
        if (k === '$recursiveAnchor') return [];
        if (k === '$recursiveRef' && v === '#' && component) return [['$ref', `doc#/$defs/${component}`]];
        return [[k, k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', 'doc#/$defs/') : rewrite(v, component)]];
      }),
    );
  };
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormatsModule.default(ajv);
  ajv.addFormat('binary', true);
  ajv.addFormat('unixtime', true);
  // Not meta-validated here (seconds for OpenAI's 375 schemas, stalling the gateway in this process): see the JSON Schema test above.
  const defs = Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, rewrite(schema, name)]));
  ajv.addSchema({ $id: 'doc', $defs: defs }, undefined, undefined, false);
  const cache = new Map<string, ValidateFunction>();
  return (name, value) => {
    let validate = cache.get(name);
    if (!validate) {
      validate = ajv.compile(name.startsWith('{') ? (rewrite(JSON.parse(name) as Json) as JsonObject) : { $ref: `doc#/$defs/${name}` });
      cache.set(name, validate);
    }
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
  };
}

let emu: Emulator;
let gw: Gateway;
let doc: JsonObject;
let admin: Record<string, string>;
let spec: JsonObject;
let freshApiSchemas: ReturnType<typeof generateApiSchemas>;

beforeAll(async () => {
  // The slow, synchronous work first (parsing the 3 MB spec, compiling the types): done while
  // the gateway in this process is serving, it would stall its event loop and connections.
  spec = obj(readSpec() as Json, 'spec');
  freshApiSchemas = generateApiSchemas();
  // The spec's validators the answers are checked with below (seconds to compile, the first time).
  for (const name of ['CreateChatCompletionResponse', 'CreateChatCompletionStreamResponse', 'ListModelsResponse', 'ErrorResponse']) validateSchema(name, null);
  emu = await startEmulator({ zeroLatency: true });
  // With API_KEY set, /v1 requires a key: the document must still be public.
  gw = await startGateway(emu, { API_KEY });
  admin = await adminHeaders(gw);
  const res = await fetch(`${gw.url}/docs-json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = obj((await res.json()) as Json, '/docs-json');
}, 90_000);

afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

describe('the OpenAPI document (/docs-json)', () => {
  it('is structurally valid OpenAPI 3.1', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    const validate = ajv.compile(OPENAPI_31);
    expect(validate(doc) ? [] : validate.errors).toEqual([]);
    expect(doc.openapi).toBe('3.1.0');
    expect(obj(doc.info, 'info').title).toBe('GPT4Free Pool API 文档');
    expect(String(obj(doc.info, 'info').description)).toMatch(HAN);
  });

  it('is served as YAML too (/docs-yaml), with the same content', async () => {
    const res = await fetch(`${gw.url}/docs-yaml`);
    expect(res.status).toBe(200);
    expect(parseYaml(await res.text(), { maxAliasCount: -1 })).toEqual(doc);
  });

  it('resolves every $ref, and declares every tag, security scheme and path parameter it uses', () => {
    const unresolved = refs(doc).filter(({ ref }) => resolvePointer(doc, ref) === undefined);
    expect(unresolved).toEqual([]);

    const tags = new Set((doc.tags as JsonObject[]).map((t) => t.name));
    const schemes = new Set(Object.keys(obj(obj(doc.components, 'components').securitySchemes, 'securitySchemes')));
    const ids = new Set<string>();
    for (const { method, path, op } of operations(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      for (const tag of op.tags as string[]) expect({ where, tag, declared: tags.has(tag) }).toEqual({ where, tag, declared: true });
      for (const requirement of (op.security ?? []) as JsonObject[]) {
        for (const scheme of Object.keys(requirement)) expect({ where, scheme, declared: schemes.has(scheme) }).toEqual({ where, scheme, declared: true });
      }
      expect(ids.has(String(op.operationId))).toBe(false);
      ids.add(String(op.operationId));
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = ((op.parameters ?? []) as JsonObject[]).filter((p) => p.in === 'path').map((p) => p.name);
      expect({ where, path: declared.sort() }).toEqual({ where, path: templated });
    }
  });

  it('has schemas that are valid JSON Schema (the gateway’s own; OpenAI’s are checked against the spec below)', () => {
    const ajv = new Ajv2020({ strict: false });
    const schemas = obj(obj(doc.components, 'components').schemas, 'schemas');
    const invalid = Object.entries(schemas)
      .filter(([name]) => !(name in openaiSchemasFile.schemas))
      .filter(([, schema]) => !ajv.validateSchema(schema as JsonObject))
      .map(([name]) => name);
    expect(invalid).toEqual([]);
  });
});

describe('coverage: every route the app serves', () => {
  /** `/v1/models/*id`, `/api/keys/:id` → `/v1/models/{id}`, `/api/keys/{id}`. */
  const toOpenApiPath = (path: string) => path.replace(/[:*](\w+)/g, '{$1}');

  /**
   * Routes of the Express router, less the document's own (/docs…) and the console's catch-all
   * middleware (`/{*path}`, every method: the admin console and its SPA fallback, which never
   * answers /v1, /api, /docs, /health or /metrics).
   */
  function servedRoutes(): Array<{ method: string; path: string }> {
    interface Layer {
      route?: { path: string; methods: Record<string, boolean> };
    }
    const express = gw.app.getHttpAdapter().getInstance() as unknown as { router: { stack: Layer[] } };
    const routes = express.router.stack.flatMap((layer) =>
      layer.route ? Object.keys(layer.route.methods).map((method) => ({ method, path: layer.route!.path })) : [],
    );
    expect(routes.filter((r) => r.path === '/{*path}').map((r) => r.method)).toEqual(expect.arrayContaining(['get', 'post']));
    return routes.filter((r) => !/^\/docs([-/]|$)/.test(r.path) && r.path !== '/{*path}').map((r) => ({ method: r.method, path: toOpenApiPath(r.path) }));
  }

  it('appears in the document, and the document lists nothing else', () => {
    const served = servedRoutes()
      .map((r) => `${r.method.toUpperCase()} ${r.path}`)
      .sort();
    const documented = operations(doc)
      .map((o) => `${o.method.toUpperCase()} ${o.path}`)
      .sort();
    expect(served.length).toBeGreaterThan(40);
    expect(documented).toEqual(served);
  });

  it('has a Chinese summary and description, Chinese tags, and Chinese response descriptions', () => {
    const missing: string[] = [];
    for (const { method, path, op } of operations(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      if (!HAN.test(String(op.summary ?? ''))) missing.push(`${where}: summary`);
      if (!HAN.test(String(op.description ?? ''))) missing.push(`${where}: description`);
      if (!(op.tags as string[]).length || !(op.tags as string[]).every((t) => HAN.test(t))) missing.push(`${where}: tags`);
      for (const [status, response] of Object.entries(obj(op.responses, 'responses'))) {
        if (!HAN.test(String(obj(response, status).description))) missing.push(`${where} ${status}: description`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('documents the security each route really enforces (no credentials: 401 exactly where documented; documented credentials: accepted)', async () => {
    const logoutHeaders = await adminHeaders(gw);
    const mismatches: string[] = [];
    for (const { method, path, op } of operations(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      const security = op.security as Json | undefined;
      const expected =
        path.startsWith('/v1/') && !path.startsWith('/v1/images/files/')
          ? CLIENT_SECURITY
          : path.startsWith('/api/') && path !== '/api/auth/login'
            ? ADMIN_SECURITY
            : undefined;
      if (!same(security, expected) && !(expected === undefined && same(security, []))) {
        mismatches.push(`${where}: documented ${JSON.stringify(security)}, expected ${JSON.stringify(expected)}`);
      }
      const url = `${gw.url}${path.replace(/\{\w+\}/g, 'docs-test-x')}`;
      const send = (headers: Record<string, string>) =>
        fetch(url, {
          method: method.toUpperCase(),
          headers: { 'content-type': 'application/json', ...headers },
          body: ['post', 'patch', 'put'].includes(method) ? '{}' : undefined,
        });
      const anonymous = (await send({})).status;
      if ((anonymous === 401) !== (security !== undefined && (security as Json[]).length > 0)) mismatches.push(`${where}: ${anonymous} without credentials`);
      const credentials: Array<Record<string, string>> =
        expected === ADMIN_SECURITY
          ? [path === '/api/auth/logout' ? logoutHeaders : admin]
          : expected === CLIENT_SECURITY
            ? [{ authorization: `Bearer ${API_KEY}` }, { 'x-api-key': API_KEY }]
            : [];
      for (const headers of credentials) {
        const status = (await send(headers)).status;
        if (status === 401) mismatches.push(`${where}: 401 with ${Object.keys(headers).join(',')}`);
      }
    }
    expect(mismatches).toEqual([]);
  }, 30_000);

  it('documents errors in OpenAI’s envelope (Anthropic’s under /v1/messages), and every answer’s x-request-id', () => {
    const wrong: string[] = [];
    for (const { method, path, op } of operations(doc)) {
      for (const [status, raw] of Object.entries(obj(op.responses, 'responses'))) {
        const response = obj(raw, status);
        const where = `${method.toUpperCase()} ${path} ${status}`;
        if (!same(obj(response.headers, `${where} headers`)['x-request-id'], { $ref: '#/components/headers/x-request-id' }))
          wrong.push(`${where}: x-request-id`);
        if (Number(status) < 400 || path.startsWith('/health')) continue;
        const schema = obj(obj(obj(response.content, where)['application/json'], where).schema, where);
        const ref = schema.$ref;
        // The Anthropic Messages API answers every error in Anthropic's envelope.
        const envelopes = path.startsWith('/v1/messages')
          ? ['#/components/schemas/AnthropicErrorResponse']
          : ['#/components/schemas/ErrorResponse', '#/components/schemas/PoolErrorResponse'];
        if (!envelopes.includes(String(ref))) wrong.push(`${where}: ${JSON.stringify(schema)}`);
      }
    }
    expect(wrong).toEqual([]);
    const pool = obj(obj(obj(doc.components, 'c').schemas, 's').PoolErrorResponse, 'PoolErrorResponse');
    expect((pool.allOf as Json[])[0]).toEqual({ $ref: '#/components/schemas/ErrorResponse' });
  });
});

describe('/v1 schemas are OpenAI’s', () => {
  it('the vendored file equals a fresh extraction from vendor/openai-openapi/openai-openapi.yaml (regenerate: node scripts/openai-schemas.ts)', () => {
    expect(openaiSchemasFile).toEqual(extractOpenAISchemas(spec));
  });

  it('every OpenAI component in the document deep-equals the spec’s', () => {
    const schemas = obj(obj(doc.components, 'components').schemas, 'schemas');
    const specSchemas = obj(obj(spec.components, 'spec components').schemas, 'spec schemas');
    const names = Object.keys(openaiSchemasFile.schemas);
    expect(names.length).toBeGreaterThan(9);
    for (const name of names) expect({ name, schema: schemas[name] }).toEqual({ name, schema: specSchemas[name] });
  });

  it('request bodies and answers are the ones OpenAI’s own operations use', () => {
    const specPaths = obj(spec.paths, 'spec paths');
    // Anthropic's Messages API has Anthropic's shapes (below), not OpenAI's; a client key's own view
    // (`/v1/key`, one-api's billing endpoints, which OpenAI's spec no longer has) is the gateway's.
    const ownV1 = (path: string) => path === '/v1/key' || path.startsWith('/v1/dashboard/billing/');
    const v1 = operations(doc).filter(
      (o) => o.path.startsWith('/v1/') && !o.path.startsWith('/v1/images/files/') && !o.path.startsWith('/v1/messages') && !ownV1(o.path),
    );
    expect(v1.map((o) => `${o.method} ${o.path}`).sort()).toEqual([
      'delete /v1/responses/{response_id}',
      'get /v1/models',
      'get /v1/models/{id}',
      'get /v1/responses/{response_id}',
      'get /v1/responses/{response_id}/input_items',
      'post /v1/audio/speech',
      'post /v1/audio/transcriptions',
      'post /v1/chat/completions',
      'post /v1/embeddings',
      'post /v1/images/generations',
      'post /v1/responses',
    ]);
    for (const { method, path, op } of v1) {
      const specOp = obj(obj(specPaths[path.slice(3).replace('{id}', '{model}')], path)[method], `${method} ${path} in the spec`);
      if (specOp.requestBody) {
        // Transcriptions take a multipart form; everything else JSON.
        const bodyType = path === '/v1/audio/transcriptions' ? 'multipart/form-data' : 'application/json';
        const specBody = obj(obj(obj(specOp.requestBody, 'body').content, 'content')[bodyType], 'json').schema;
        const body = obj(obj(obj(obj(op.requestBody, path).content, path)[bodyType], path).schema, path);
        // OpenAI's schema itself, or OpenAI's schema plus the gateway's extension (allOf).
        const openai = body.allOf ? (body.allOf as Json[])[0] : body;
        expect({ path, body: openai }).toEqual({ path, body: specBody });
        if (body.allOf)
          expect((body.allOf as JsonObject[]).slice(1).every((s) => /^#\/components\/schemas\/Pool\w+Extension$/.test(String(s.$ref)))).toBe(true);
      }
      const specContent = obj(obj(specOp.responses, 'responses')['200'], '200').content;
      // DELETE /responses/{response_id}: the spec gives no body, though OpenAI answers a deletion object; the document describes it.
      if (specContent === undefined && method === 'delete') continue;
      const specOk = obj(specContent, '200 content');
      const ok = obj(obj(obj(op.responses, path)['200'], `${path} 200`).content, `${path} 200 content`);
      for (const [type, media] of Object.entries(ok)) {
        // Speech: OpenAI says application/octet-stream; the gateway names the audio type, with the same schema.
        // Transcriptions: OpenAI describes its text, srt and vtt answers in words only; the document gives them as strings.
        const textAnswer = path === '/v1/audio/transcriptions' && (type === 'text/plain' || type === 'text/vtt') ? { schema: { type: 'string' } } : undefined;
        const specMedia = specOk[type] ?? (type.startsWith('audio/') ? specOk['application/octet-stream'] : textAnswer);
        expect({ path, type, schema: obj(media, type).schema }).toEqual({ path, type, schema: obj(specMedia, `${path} ${type} in the spec`).schema });
      }
      if (path === '/v1/chat/completions' || path === '/v1/responses') expect(Object.keys(ok).sort()).toEqual(['application/json', 'text/event-stream']);
    }
  });

  it('the Anthropic Messages operations use the Anthropic schemas', () => {
    const anthropic = operations(doc).filter((o) => o.path.startsWith('/v1/messages'));
    const shapes = anthropic.map(({ method, path, op }) => {
      const body = obj(obj(obj(op.requestBody, path).content, path)['application/json'], path).schema;
      const ok = obj(obj(obj(op.responses, path)['200'], `${path} 200`).content, `${path} 200 content`);
      return { op: `${method} ${path}`, body, ok: Object.fromEntries(Object.entries(ok).map(([type, media]) => [type, obj(media, type).schema])) };
    });
    const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
    expect(shapes).toEqual([
      {
        op: 'post /v1/messages',
        body: ref('AnthropicCreateMessageRequest'),
        ok: { 'application/json': ref('AnthropicMessage'), 'text/event-stream': ref('AnthropicMessageStreamEvent') },
      },
      { op: 'post /v1/messages/count_tokens', body: ref('AnthropicCountTokensRequest'), ok: { 'application/json': ref('AnthropicTokenCount') } },
    ]);
  });
});

describe('the schema files follow the code', () => {
  it('api-schemas.json equals a fresh generation from apps/api/src/openapi/api-types.ts (regenerate: node scripts/api-schemas.ts)', () => {
    expect(apiSchemasFile).toEqual(freshApiSchemas);
  });

  it('every request DTO property is documented, with the same required-ness as its validation', () => {
    const problems: string[] = [];
    const checked: string[] = [];
    const storage = getMetadataStorage();
    const byOperationId = new Map(operations(doc).map((o) => [String(o.op.operationId), o]));
    for (const module of gw.app.get(ModulesContainer).values()) {
      for (const wrapper of module.controllers.values()) {
        const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
        if (!controller) continue;
        for (const method of Object.getOwnPropertyNames(controller.prototype)) {
          const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, method) as Record<string, { index: number }> | undefined;
          const types = Reflect.getMetadata('design:paramtypes', controller.prototype, method) as Array<new () => object> | undefined;
          if (!args || !types) continue;
          for (const [key, { index }] of Object.entries(args)) {
            const kind = Number(key.split(':')[0]);
            if (kind !== RouteParamtypes.BODY && kind !== RouteParamtypes.QUERY) continue;
            const dto = types[index]!;
            const validations = storage.getTargetValidationMetadatas(dto, '', true, false);
            if (!validations.length) continue; // @Query('name') name: string
            const found = byOperationId.get(`${controller.name}_${method}`);
            // /v1 bodies (and the playground's) are documented with OpenAI's schemas, compared with the spec above.
            if (!found) continue;
            const properties = [...new Set(validations.map((v) => v.propertyName))].sort();
            const optional = new Set(validations.filter((v) => v.type === ValidationTypes.CONDITIONAL_VALIDATION).map((v) => v.propertyName));
            const required = properties.filter((p) => !optional.has(p));
            let documented: string[];
            let documentedRequired: string[];
            if (kind === RouteParamtypes.BODY) {
              const ref = String(obj(obj(obj(obj(found.op.requestBody, 'body').content, 'c')['application/json'], 'j').schema, 's').$ref);
              const schema = obj(resolvePointer(doc, ref), ref);
              documented = Object.keys(obj(schema.properties, `${ref} properties`)).sort();
              documentedRequired = ((schema.required ?? []) as string[]).slice().sort();
            } else {
              const params = ((found.op.parameters ?? []) as JsonObject[]).filter((p) => p.in === 'query');
              documented = params.map((p) => String(p.name)).sort();
              documentedRequired = params
                .filter((p) => p.required === true)
                .map((p) => String(p.name))
                .sort();
            }
            checked.push(`${dto.name} (${found.method.toUpperCase()} ${found.path})`);
            if (!same(documented, properties)) problems.push(`${dto.name}: documents ${documented.join(',')}, validates ${properties.join(',')}`);
            if (!same(documentedRequired, required))
              problems.push(`${dto.name}: documents required ${documentedRequired.join(',')}, requires ${required.join(',')}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    const names = [...new Set(checked.map((c) => c.split(' ')[0]))];
    expect(names).toEqual(
      expect.arrayContaining([
        'LoginDto',
        'UpdateProviderDto',
        'AddKeyDto',
        'UpstreamDto',
        'CreateClientKeyDto',
        'UpdateClientKeyDto',
        'StatsQueryDto',
        'LogsQueryDto',
      ]),
    );
  });
});

describe('the app agrees with the documented schemas', () => {
  let validate: (name: string, value: unknown) => string[];
  beforeAll(() => {
    validate = componentValidator(doc);
  });

  /** The schema the document gives for an answer, as a component name or inline schema text. */
  function documentedSchema(method: string, path: string, status: number, type = 'application/json'): string {
    const op = obj(obj(obj(doc.paths, 'paths')[path], path)[method], `${method} ${path}`);
    const schema = obj(obj(obj(obj(obj(op.responses, 'responses')[String(status)], `${path} ${status}`).content, 'content')[type], type).schema, 'schema');
    return typeof schema.$ref === 'string' ? schema.$ref.replace('#/components/schemas/', '') : JSON.stringify(schema);
  }

  function documentedBody(method: string, path: string): string {
    const op = obj(obj(obj(doc.paths, 'paths')[path], path)[method], `${method} ${path}`);
    const schema = obj(obj(obj(obj(op.requestBody, 'body').content, 'content')['application/json'], 'json').schema, 'schema');
    return String(schema.$ref).replace('#/components/schemas/', '');
  }

  it('POST /api/keys: the app accepts exactly the bodies the documented schema accepts', async () => {
    const schema = documentedBody('post', '/api/keys');
    expect(schema).toBe('CreateClientKeyDto');
    const bodies: unknown[] = [
      { name: 'docs' },
      { name: '  docs  ', rpmLimit: 10 },
      { name: 'docs', rpmLimit: null },
      { name: 'x'.repeat(100), rpmLimit: 1_000_000 },
      {},
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(101) },
      { name: 5 },
      { name: 'docs', rpmLimit: 0 },
      { name: 'docs', rpmLimit: 1.5 },
      { name: 'docs', rpmLimit: 1_000_001 },
      { name: 'docs', rpmLimit: '10' },
    ];
    for (const body of bodies) {
      const res = await postJson(`${gw.url}/api/keys`, body, admin);
      const documentedValid = validate(schema, body).length === 0;
      expect({ body, status: res.status }).toEqual({ body, status: documentedValid ? 201 : 400 });
      const answer = (await res.json()) as unknown;
      expect({ body, errors: validate(documentedSchema('post', '/api/keys', res.status), answer) }).toEqual({ body, errors: [] });
    }
  }, 30_000);

  it('POST /api/upstreams: the app accepts exactly the bodies the documented schema accepts', async () => {
    const schema = documentedBody('post', '/api/upstreams');
    const ok = { name: 'docs-up', baseUrl: 'http://127.0.0.1:9/v1', models: { 'docs-model': 'up-model' } };
    const bodies: unknown[] = [
      { ...ok, name: '1docs' },
      { ...ok, name: 'a'.repeat(41) },
      { ...ok, baseUrl: 'ftp://127.0.0.1/v1' },
      { ...ok, models: undefined },
      { ...ok, priority: -1 },
      { ...ok, priority: 'high' },
      { ...ok, enabled: 'yes' },
      { ...ok, ownedBy: 'o'.repeat(61) },
      { ...ok, proxy: null, priority: null, enabled: false, ownedBy: 'docs' },
    ];
    for (const body of bodies) {
      const res = await postJson(`${gw.url}/api/upstreams`, body, admin);
      const documentedValid = validate(schema, body).length === 0;
      expect({ body, status: res.status }).toEqual({ body, status: documentedValid ? 201 : 400 });
      expect({ body, errors: validate(documentedSchema('post', '/api/upstreams', res.status), (await res.json()) as unknown) }).toEqual({ body, errors: [] });
    }
  }, 30_000);

  it('accepts every documented example request (and answers it)', async () => {
    const sent: string[] = [];
    for (const { method, path, op } of operations(doc)) {
      // JSON bodies only: the multipart transcription form has no examples to send.
      const json = op.requestBody ? obj(obj(op.requestBody, path).content, path)['application/json'] : undefined;
      const media = json === undefined ? undefined : obj(json, path);
      for (const [name, example] of Object.entries((media?.examples ?? {}) as JsonObject)) {
        const res = await fetch(`${gw.url}${path}`, {
          method: method.toUpperCase(),
          headers: path.startsWith('/api/') ? admin : { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
          body: JSON.stringify(obj(example, name).value),
        });
        await res.arrayBuffer();
        expect({ path, name, status: res.status }).toEqual({ path, name, status: 200 });
        sent.push(`${path} ${name}`);
      }
    }
    expect(sent.length).toBeGreaterThanOrEqual(6);
  }, 30_000);

  it('answers of the /api, /health and /v1 endpoints match their documented schemas', async () => {
    // Something to report: a chat request (with attempts) and a client key with usage.
    const chat = await postJson(
      `${gw.baseURL}/chat/completions`,
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
      { authorization: `Bearer ${API_KEY}` },
    );
    expect(chat.status).toBe(200);
    expect(chat.headers.get('x-pool-provider')).toBeTruthy();
    expectSchema(documentedSchema('post', '/v1/chat/completions', 200), await chat.json());
    const stream = await postJson(
      `${gw.baseURL}/chat/completions`,
      { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] },
      { authorization: `Bearer ${API_KEY}` },
    );
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const chunks = (await stream.text())
      .split('\n')
      .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
      .map((l) => JSON.parse(l.slice(6)) as unknown);
    expect(chunks.length).toBeGreaterThan(0);
    for (const chunk of chunks) expectSchema(documentedSchema('post', '/v1/chat/completions', 200, 'text/event-stream'), chunk);
    const models = await fetch(`${gw.baseURL}/models`, { headers: { 'x-api-key': API_KEY } });
    expectSchema(documentedSchema('get', '/v1/models', 200), await models.json());
    const missing = await fetch(`${gw.baseURL}/models/no-such-model`, { headers: { 'x-api-key': API_KEY } });
    expect(missing.status).toBe(404);
    expectSchema(documentedSchema('get', '/v1/models/{id}', 404), await missing.json());

    const login = await postJson(`${gw.url}/api/auth/login`, { password: 'admin-test-password' });
    const checks: Array<[string, string, number, Response]> = [['post', '/api/auth/login', 200, login]];
    const get = async (path: string, concrete = path) => checks.push(['get', path, 200, await fetch(`${gw.url}${concrete}`, { headers: admin })]);
    const post = async (path: string, concrete = path) =>
      checks.push(['post', path, 200, await fetch(`${gw.url}${concrete}`, { method: 'POST', headers: admin })]);
    await get('/api/auth/session');
    await get('/api/keys');
    await get('/api/providers');
    await get('/api/providers/{name}', '/api/providers/DeepInfra');
    await get('/api/upstreams');
    await get('/api/models');
    await get('/api/models/{id}', '/api/models/gpt-4o-mini');
    await get('/api/stats', '/api/stats?dimension=provider');
    await get('/api/logs');
    await post('/api/health/check');
    await post('/api/discovery/refresh');
    const route = ((await (await fetch(`${gw.url}/api/models/gpt-4o-mini`, { headers: admin })).json()) as { routes: Array<{ provider: string }> }).routes[0]!;
    await post('/api/models/{id}/routes/{provider}/pin', `/api/models/gpt-4o-mini/routes/${route.provider}/pin`);
    await get('/api/health/providers');
    await get('/api/health/history/{provider}', '/api/health/history/DeepInfra');
    await get('/health');
    await get('/health/live');
    await get('/health/ready');
    checks.push(['get', '/api/providers/{name}', 404, await fetch(`${gw.url}/api/providers/nope`, { headers: admin })]);
    checks.push(['get', '/api/keys', 401, await fetch(`${gw.url}/api/keys`)]);
    checks.push(['post', '/v1/chat/completions', 401, await postJson(`${gw.baseURL}/chat/completions`, {})]);
    const message = { model: 'gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };
    checks.push(['post', '/v1/messages', 200, await postJson(`${gw.baseURL}/messages`, message, { 'x-api-key': API_KEY })]);
    checks.push(['post', '/v1/messages', 401, await postJson(`${gw.baseURL}/messages`, message)]);
    checks.push(['post', '/v1/messages', 404, await postJson(`${gw.baseURL}/messages`, { ...message, model: 'nope' }, { 'x-api-key': API_KEY })]);
    checks.push(['post', '/v1/messages/count_tokens', 200, await postJson(`${gw.baseURL}/messages/count_tokens`, message, { 'x-api-key': API_KEY })]);
    const events = await postJson(`${gw.baseURL}/messages`, { ...message, stream: true }, { 'x-api-key': API_KEY });
    const datas = (await events.text())
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as unknown);
    expect(datas.length).toBeGreaterThan(5);
    for (const data of datas) expect(validate(documentedSchema('post', '/v1/messages', 200, 'text/event-stream'), data)).toEqual([]);
    const failures: string[] = [];
    for (const [method, path, status, res] of checks) {
      const where = `${method.toUpperCase()} ${path} ${status}`;
      if (res.status !== status) {
        failures.push(`${where}: got ${res.status}`);
        continue;
      }
      const errors = validate(documentedSchema(method, path, status), (await res.json()) as unknown);
      if (errors.length) failures.push(`${where}: ${errors.join('; ')}`);
    }
    expect(failures).toEqual([]);
  }, 30_000);
});

describe('Swagger UI (/docs) loads nothing from another host', () => {
  const swaggerDist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  /** Hosts that serve front-end libraries or fonts: never referenced. */
  const CDN = /unpkg\.com|jsdelivr\.net|cdnjs\.cloudflare\.com|googleapis\.com|gstatic\.com|bootcdn\.|staticfile\.org|cdn\.|fonts\./i;
  /** http(s) URLs in `text` whose host is not the gateway's. */
  const foreignUrls = (text: string) => [...text.matchAll(/https?:\/\/[^\s"'`)<>\\]+/g)].map((m) => m[0]).filter((u) => new URL(u).origin !== gw.url);

  it('serves the page and every script and stylesheet it references from the gateway, without a token', async () => {
    // As a browser asks for it: the console's SPA fallback must leave /docs alone.
    const page = await fetch(`${gw.url}/docs`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<title>GPT4Free Pool API 文档</title>');
    // The only absolute URLs are the XML namespaces of the inline SVG sprite (identifiers, never fetched).
    const withoutNamespaces = html.replace(/\sxmlns(:\w+)?="http:\/\/www\.w3\.org\/[^"]+"/g, '');
    expect(foreignUrls(withoutNamespaces)).toEqual([]);

    const assets = [...html.matchAll(/<(?:script|link|img)\b[^>]*?\b(?:src|href)=['"]([^'"]+)['"]/g)].map((m) => m[1]!);
    expect(assets).toEqual(
      expect.arrayContaining(['./docs/swagger-ui.css', './docs/swagger-ui-bundle.js', './docs/swagger-ui-standalone-preset.js', './docs/swagger-ui-init.js']),
    );
    for (const asset of assets) {
      const url = new URL(asset, `${gw.url}/docs`);
      expect(url.origin).toBe(gw.url);
      const res = await fetch(url);
      expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
      const body = Buffer.from(await res.arrayBuffer());
      const file = url.pathname.replace(/^\/docs\//, '');
      if (file === 'swagger-ui-init.js') {
        // Our own script: the options, then Swagger UI's start-up code. The options carry the
        // document (whose descriptions may contain links: text, not loaded) and nothing else remote.
        const script = body.toString('utf8');
        const start = script.indexOf('let options = ') + 'let options = '.length;
        const end = script.indexOf(';\n  url = options.swaggerUrl');
        const options = JSON.parse(script.slice(start, end)) as { swaggerDoc: JsonObject; customOptions: JsonObject; swaggerUrl?: string };
        expect(options.swaggerDoc).toEqual(doc);
        expect(options.customOptions.validatorUrl).toBeNull();
        expect(options.swaggerUrl).toBeUndefined();
        expect(foreignUrls(script.slice(0, start - 'let options = '.length) + script.slice(end))).toEqual([]);
      } else if (file.endsWith('.css')) {
        const css = body.toString('utf8');
        expect(css).not.toMatch(/@import/);
        const urls = [...css.matchAll(/url\(\s*['"]?([^'")]+)/g)].map((m) => m[1]!);
        expect(urls.filter((u) => !u.startsWith('data:') && !u.startsWith('#'))).toEqual([]);
        expect(body.equals(readFileSync(join(swaggerDist, file)))).toBe(true);
      } else {
        // Swagger UI itself, byte for byte as npm installed it (swagger-ui-dist). Its code
        // mentions many URLs as identifiers (JSON Schema dialects, RFCs); the browser test below
        // shows it fetches none of them. No CDN is referenced at all.
        expect(body.equals(readFileSync(join(swaggerDist, file)))).toBe(true);
        expect(CDN.test(body.toString('utf8'))).toBe(false);
      }
    }
  });

  it('has a document without remote images or embeds, and without servers elsewhere', () => {
    const text = JSON.stringify(doc);
    expect(text).not.toMatch(/!\[[^\]]*\]\(/);
    expect(text).not.toMatch(/<(img|iframe|script|link|object|embed|video|audio|source)\b/i);
    expect(((doc.servers ?? []) as JsonObject[]).map((s) => s.url)).toEqual([]);
  });

  it('renders in Chromium with every request going to the gateway', async () => {
    // Debian's Chromium, as the console's browser tests use (CI installs it).
    const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
    if (!existsSync(executablePath)) throw new Error(`Chromium not found at ${executablePath} (apt-get install chromium, or set CHROMIUM_PATH)`);
    const browser = await chromium.launch({ executablePath, chromiumSandbox: false });
    try {
      const context = await browser.newContext();
      const requested: string[] = [];
      const foreign: string[] = [];
      // Offline, as in China or an air-gapped network: anything for another host fails.
      await context.route('**/*', (route) => {
        const url = route.request().url();
        requested.push(url);
        if (/^(data|blob|about):/.test(url) || new URL(url).origin === gw.url) return route.continue();
        foreign.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`${gw.url}/docs`, { waitUntil: 'networkidle' });
      await page.waitForSelector('.swagger-ui .info .title');
      expect(await page.textContent('.swagger-ui .info .title')).toContain('GPT4Free Pool API 文档');
      expect(await page.locator('.opblock').count()).toBe(operations(doc).length);
      expect(await page.locator('.opblock-tag').first().textContent()).toContain('对话');

      // Try it out, from the page: a public endpoint, answered by the gateway itself.
      const live = page.locator('#operations-健康检查-HealthController_live');
      await live.locator('.opblock-summary').click();
      await live.locator('button.try-out__btn').click();
      await live.locator('button.execute').click();
      const status = live.locator('.live-responses-table tbody .response-col_status').first();
      await status.waitFor();
      expect((await status.textContent())?.trim()).toBe('200');
      await page.waitForLoadState('networkidle');

      expect(foreign).toEqual([]);
      expect(requested.some((u) => u.endsWith('/docs/swagger-ui-bundle.js'))).toBe(true);
      expect(requested.some((u) => u.endsWith('/health/live'))).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
