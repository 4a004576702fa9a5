/**
 * `/v1/embeddings` end to end through the official OpenAI SDK and LangChain's OpenAIEmbeddings:
 * float and base64 vectors, each provider's native shape mapped, batches split to each upstream's
 * per-call limit and joined in order, failover under faults, vectors of the wrong length failing
 * the attempt, all-fail errors and bad input, each answer checked against OpenAI's spec.
 *
 * The shipped catalog routes bge-base-en-v1.5 to DeepInfra, HuggingFace and CloudflareAI;
 * FIXED_ORDER_ENV tries them in that order.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenAIEmbeddings } from '@langchain/openai';
import OpenAI from 'openai';
import type { Subscription } from 'rxjs';
import { PoolEvents, type RequestRecord } from '../../apps/api/src/events/pool-events.service.ts';
import { EMBEDDING_BATCH_LIMITS, embedText } from '../emulators/embedding-wire.ts';
import { startEmulator } from '../emulators/emulator.ts';
import type { Emulator, FaultMode, ProviderId, RecordedRequest } from '../emulators/emulator.ts';
import { FIXED_ORDER_ENV, postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

const MODEL = 'bge-base-en-v1.5';

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null; attempts?: { provider: string; status: number | null; reason: string }[] };
}

interface EmbeddingsBody {
  object: string;
  data: { object: string; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

let emu: Emulator;
let gw: Gateway;
let client: OpenAI;
let records: RequestRecord[] = [];
let subscription: Subscription;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  gw = await startGateway(emu, { ...FIXED_ORDER_ENV });
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'x', maxRetries: 0 });
  subscription = gw.app.get(PoolEvents).requests.subscribe((r) => records.push(r));
});

afterAll(async () => {
  subscription?.unsubscribe();
  await gw?.close();
  await emu?.close();
});

beforeEach(() => {
  records = [];
});

afterEach(() => {
  emu.reset();
});

const embeddingCalls = (provider?: ProviderId): RecordedRequest[] =>
  emu.requests(provider).filter((r) => /\/embeddings$|feature-extraction$|\/ai\/run\/@cf\/baai\//.test(r.path));

async function post(body: unknown, c: Gateway = gw): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await postJson(`${c.baseURL}/embeddings`, body);
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** What the emulator's model makes of `text`, as float32 (the values every route sends). */
const expected = (text: string, dims = 768) => embedText(text, dims);

describe('POST /v1/embeddings', () => {
  it('answers one string with OpenAI’s shape: float vectors of the model’s length, usage from the upstream', async () => {
    const res = await post({ model: MODEL, input: 'The quick brown fox', encoding_format: 'float' });
    expect(res.status).toBe(200);
    expectSchema('CreateEmbeddingResponse', res.body);
    const body = res.body as EmbeddingsBody;
    expect(body).toMatchObject({ object: 'list', model: MODEL, usage: { prompt_tokens: 4, total_tokens: 4 } });
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ object: 'embedding', index: 0 });
    expect(body.data[0]!.embedding).toEqual(expected('The quick brown fox'));
    expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
    expect(res.headers.get('x-pool-upstream-model')).toBe('BAAI/bge-base-en-v1.5');
    const [call] = embeddingCalls('deepinfra');
    expect(call!.body).toEqual({ model: 'BAAI/bge-base-en-v1.5', input: ['The quick brown fox'], encoding_format: 'float' });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      endpoint: 'embeddings',
      model: MODEL,
      status: 200,
      provider: 'DeepInfra',
      usage: { prompt_tokens: 4, completion_tokens: 0, total_tokens: 4 },
      usageEstimated: false,
    });
  });

  it('encodes base64 as little-endian float32, which the SDK decodes to the same vector', async () => {
    const raw = await post({ model: MODEL, input: 'hello', encoding_format: 'base64' });
    // OpenAI's spec types `embedding` as numbers only (its base64 strings are not in the schema).
    expect(raw.body).toMatchObject({ object: 'list', model: MODEL, data: [{ object: 'embedding', index: 0 }] });
    const b64 = (raw.body as EmbeddingsBody).data[0]!.embedding as string;
    const bytes = Buffer.from(b64, 'base64');
    expect(bytes.length).toBe(768 * 4);
    expect(bytes.readFloatLE(0)).toBe(expected('hello')[0]);
    // The SDK asks for base64 by default and decodes it.
    const viaSdk = await client.embeddings.create({ model: MODEL, input: 'hello' });
    expect(viaSdk.data[0]!.embedding).toEqual(expected('hello'));
    const asFloat = await client.embeddings.create({ model: MODEL, input: 'hello', encoding_format: 'float' });
    expect(asFloat.data[0]!.embedding).toEqual(expected('hello'));
  });

  it('maps HuggingFace’s bare arrays and Cloudflare’s {result:{shape,data}}, chosen with `provider`', async () => {
    for (const provider of ['HuggingFace', 'CloudflareAI']) {
      const res = await client.embeddings.create({ model: MODEL, input: ['one', 'two'], encoding_format: 'float', provider } as OpenAI.EmbeddingCreateParams);
      expect(res.data.map((d) => d.embedding)).toEqual([expected('one'), expected('two')]);
      expect(res.data.map((d) => d.index)).toEqual([0, 1]);
      // Neither reports usage: the gateway counts it.
      expect(res.usage.prompt_tokens).toBeGreaterThan(0);
    }
    expect(embeddingCalls('huggingface')[0]!.path).toBe('/huggingface/hf-inference/models/BAAI/bge-base-en-v1.5/pipeline/feature-extraction');
    expect(embeddingCalls('huggingface')[0]!.body).toEqual({ inputs: ['one', 'two'], normalize: true });
    expect(embeddingCalls('cloudflare')[0]!.body).toEqual({ text: ['one', 'two'] });
    expect(records.map((r) => [r.provider, r.usageEstimated])).toEqual([
      ['HuggingFace', true],
      ['CloudflareAI', true],
    ]);
  });

  it('splits a batch to each upstream’s per-call limit and joins the vectors in order', async () => {
    const inputs = Array.from({ length: 250 }, (_, i) => `sentence number ${i}`);
    const res = await client.embeddings.create({
      model: MODEL,
      input: inputs,
      encoding_format: 'float',
      provider: 'CloudflareAI',
    } as OpenAI.EmbeddingCreateParams);
    expect(res.data).toHaveLength(250);
    res.data.forEach((d, i) => expect(d.index).toBe(i));
    expect(res.data[0]!.embedding).toEqual(expected(inputs[0]!));
    expect(res.data[137]!.embedding).toEqual(expected(inputs[137]!));
    expect(res.data[249]!.embedding).toEqual(expected(inputs[249]!));
    const sizes = embeddingCalls('cloudflare').map((r) => (r.body as { text: string[] }).text.length);
    expect(sizes).toEqual([100, 100, 50]);
    expect(EMBEDDING_BATCH_LIMITS.cloudflare).toBe(100);

    const hf = await client.embeddings.create({ model: MODEL, input: inputs.slice(0, 40), provider: 'HuggingFace' } as OpenAI.EmbeddingCreateParams);
    expect(hf.data.map((d) => d.embedding)).toEqual(inputs.slice(0, 40).map((t) => expected(t)));
    expect(embeddingCalls('huggingface').map((r) => (r.body as { inputs: string[] }).inputs.length)).toEqual([32, 8]);
  });

  it('works as LangChain’s OpenAIEmbeddings', async () => {
    const embeddings = new OpenAIEmbeddings({ model: MODEL, apiKey: 'x', maxRetries: 0, configuration: { baseURL: gw.baseURL } });
    const docs = await embeddings.embedDocuments(['first document', 'second document']);
    expect(docs).toEqual([expected('first document'), expected('second document')]);
    expect(await embeddings.embedQuery('a question')).toEqual(expected('a question'));
  });

  it('honours `dimensions` where the route can (DeepInfra), and names it where none can', async () => {
    const res = await client.embeddings.create({ model: MODEL, input: 'short', dimensions: 256, encoding_format: 'float' });
    expect(res.data[0]!.embedding).toHaveLength(256);
    expect((embeddingCalls('deepinfra')[0]!.body as { dimensions: number }).dimensions).toBe(256);

    const forced = await post({ model: MODEL, input: 'short', dimensions: 256, provider: 'HuggingFace' });
    expect(forced.status).toBe(400);
    expectSchema('ErrorResponse', forced.body);
    expect((forced.body as ErrorBody).error).toMatchObject({ param: 'dimensions', type: 'invalid_request_error' });
    const larger = await post({ model: MODEL, input: 'short', dimensions: 1024 });
    expect(larger.status).toBe(400);
    expect((larger.body as ErrorBody).error.param).toBe('dimensions');
    expect(embeddingCalls()).toHaveLength(1);
  });

  it.each<[FaultMode, number | undefined]>([
    ['status', 500],
    ['status', 429],
    ['garbage200', undefined],
    ['empty200', undefined],
    ['reset', undefined],
  ])('fails over past DeepInfra on %s %s to HuggingFace', async (mode, status) => {
    emu.addFault({ provider: 'deepinfra', path: 'embedding', mode, status });
    const res = await post({ model: MODEL, input: ['a', 'b'] });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('HuggingFace');
    expect((res.body as EmbeddingsBody).data.map((d) => d.embedding)).toEqual([expected('a'), expected('b')]);
    expect(records[0]!.attempts.map((a) => a.provider)).toEqual(expect.arrayContaining(['DeepInfra', 'HuggingFace']));
  });

  it('all routes failing: 502 in OpenAI’s envelope listing each attempt; all rate-limited: 429', async () => {
    for (const provider of ['deepinfra', 'huggingface', 'cloudflare'] as const) emu.addFault({ provider, path: 'embedding', mode: 'status', status: 500 });
    const failed = await post({ model: MODEL, input: 'x' });
    expect(failed.status).toBe(502);
    expectSchema('ErrorResponse', failed.body);
    const error = (failed.body as ErrorBody).error;
    expect(error.code).toBe('all_providers_failed');
    expect(new Set(error.attempts!.map((a) => a.provider))).toEqual(new Set(['DeepInfra', 'HuggingFace', 'CloudflareAI']));
    expect(records[0]).toMatchObject({ endpoint: 'embeddings', status: 502 });

    emu.clearFaults();
    for (const provider of ['deepinfra', 'huggingface', 'cloudflare'] as const) emu.addFault({ provider, path: 'embedding', mode: 'status', status: 429 });
    const limited = await post({ model: MODEL, input: 'x' });
    expect(limited.status).toBe(429);
    expect((limited.body as ErrorBody).error.code).toBe('rate_limit_exceeded');
  });

  it('refuses bad input with a 400 naming the field, before any upstream call', async () => {
    const cases: [unknown, string][] = [
      [{ model: 'gpt-4o-mini', input: 'x' }, 'model'],
      [{ model: MODEL, input: '' }, 'input'],
      [{ model: MODEL, input: [] }, 'input'],
      [{ model: MODEL, input: ['ok', 3] }, 'input'],
      [{ model: MODEL, input: Array.from({ length: 2049 }, () => 'x') }, 'input'],
      // Token arrays: none of the shipped routes take them.
      [{ model: MODEL, input: [[1, 2, 3]] }, 'input'],
      [{ model: MODEL, input: 'x', encoding_format: 'int8' }, 'encoding_format'],
    ];
    for (const [body, param] of cases) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expectSchema('ErrorResponse', res.body);
      expect((res.body as ErrorBody).error.param ?? (res.body as ErrorBody).error.message).toContain(param);
    }
    expect((await post({ model: 'no-such-model', input: 'x' })).status).toBe(404);
    expect(embeddingCalls()).toEqual([]);
  });
});

describe('a route answering vectors of the wrong length', () => {
  let wrong: Gateway;

  beforeAll(async () => {
    // The catalog says 512; every route answers 1024: no answer may reach the client.
    const dir = mkdtempSync(join(tmpdir(), 'emb-catalog-'));
    const file = join(dir, 'catalog.yaml');
    writeFileSync(file, 'models:\n  - id: bge-m3\n    dimensions: 512\n');
    wrong = await startGateway(emu, { ...FIXED_ORDER_ENV, CATALOG_FILE: file });
  });

  afterAll(async () => {
    await wrong?.close();
  });

  it('fails each attempt and answers 502 naming the dimension', async () => {
    const res = await post({ model: 'bge-m3', input: 'x' }, wrong);
    expect(res.status).toBe(502);
    const attempts = (res.body as ErrorBody).error.attempts!;
    expect(attempts).toHaveLength(3);
    for (const a of attempts) expect(a.reason).toMatch(/1024 dimensions, expected 512/);
  });
});
