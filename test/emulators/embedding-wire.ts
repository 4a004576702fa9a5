import { createHash } from 'node:crypto';
import type { ParsedBody } from './http-io.ts';
import type { MediaFaultShape, MediaResult } from './media-wire.ts';
import type { ErrorSpec, ProviderProfile, Route } from './providers.ts';
import { isRecord } from './types.ts';

/**
 * Text embeddings as DeepInfra (OpenAI's shape under /v1/openai/embeddings), HuggingFace's
 * hf-inference feature extraction (bare arrays) and Workers AI (`{result: {shape, data}}`) answer
 * them. Vectors are unit length and a pure function of (text, length), so the same text gives the
 * same vector on every provider and a test can check which input went where.
 */

/** Vector length by upstream model id (each provider's own spelling). */
export const EMBEDDING_DIMENSIONS: Readonly<Record<string, number>> = {
  'BAAI/bge-base-en-v1.5': 768,
  'BAAI/bge-large-en-v1.5': 1024,
  'BAAI/bge-m3': 1024,
  'intfloat/multilingual-e5-large': 1024,
  '@cf/baai/bge-base-en-v1.5': 768,
  '@cf/baai/bge-large-en-v1.5': 1024,
  '@cf/baai/bge-m3': 1024,
  'nomic-embed-text': 768,
};

/** Per-call input limits the emulator enforces, as the gateway splits batches to them. */
export const EMBEDDING_BATCH_LIMITS: Readonly<Record<string, number>> = { deepinfra: 1024, huggingface: 32, cloudflare: 100, custom: 2048 };

const EMBEDDING_MODEL = /bge|e5-|embed|gte-|minilm/i;

export function isEmbeddingModel(id: string): boolean {
  return EMBEDDING_MODEL.test(id);
}

/** A deterministic unit vector for `text`: a hash-seeded generator, then normalized. */
export function embedText(text: string, dimensions: number): number[] {
  const values: number[] = [];
  let block = 0;
  while (values.length < dimensions) {
    const digest = createHash('sha256').update(`${block++}\u0000${text}`).digest();
    for (let i = 0; i + 4 <= digest.length && values.length < dimensions; i += 4) values.push(digest.readUInt32LE(i) / 0xffffffff - 0.5);
  }
  const norm = Math.hypot(...values) || 1;
  return values.map((v) => Math.fround(v / norm));
}

/** Little-endian float32, as OpenAI's `encoding_format: "base64"` has it. */
export function float32Base64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString('base64');
}

/** A crude token count (one per word piece), enough for usage that grows with the input. */
function countTokens(texts: readonly string[]): number {
  return texts.reduce((sum, t) => sum + Math.max(1, t.split(/\s+/).filter(Boolean).length), 0);
}

export interface EmbeddingRequest {
  profile: ProviderProfile;
  route: Route;
  parsed: ParsedBody;
  models: readonly string[];
}

export function answerEmbeddings(req: EmbeddingRequest): MediaResult {
  if (!req.parsed.ok || !isRecord(req.parsed.value)) return fail(req.profile, 400, 'Request body must be a JSON object');
  const body = req.parsed.value;
  switch (req.profile.id) {
    case 'huggingface':
      return huggingfaceEmbeddings(req, body);
    case 'cloudflare':
      return cloudflareEmbeddings(req, body);
    case 'deepinfra':
    case 'custom':
      return openAiEmbeddings(req, body);
    default:
      return fail(req.profile, 404, `Unknown endpoint for ${req.profile.id}`);
  }
}

export function embeddingFaultShape(profile: ProviderProfile): MediaFaultShape {
  switch (profile.id) {
    case 'huggingface':
      return { contentType: 'application/json', garbage: '[[0.1, 0.2', empty: '[]' };
    case 'cloudflare':
      return {
        contentType: 'application/json',
        garbage: '{"result": {',
        empty: '{"result":{"shape":[0,0],"data":[]},"success":true,"errors":[],"messages":[]}',
      };
    default:
      return {
        contentType: 'application/json',
        garbage: '{"data": [',
        empty: '{"object":"list","data":[],"model":"x","usage":{"prompt_tokens":0,"total_tokens":0}}',
      };
  }
}

function openAiEmbeddings(req: EmbeddingRequest, body: Record<string, unknown>): MediaResult {
  const model = typeof body.model === 'string' ? body.model : '';
  if (!model) return fail(req.profile, 400, 'model is required');
  const modelError = checkModel(req, model);
  if (modelError) return { error: modelError };
  // DeepInfra documents strings only; the custom upstream (vLLM, Ollama) also takes token arrays.
  const texts = inputTexts(body.input, req.profile.id === 'custom');
  if (typeof texts === 'string') return fail(req.profile, req.profile.id === 'deepinfra' ? 422 : 400, texts);
  const limit = EMBEDDING_BATCH_LIMITS[req.profile.id]!;
  if (texts.length > limit) return fail(req.profile, 400, `input has ${texts.length} items, at most ${limit} are allowed`);
  let dims = EMBEDDING_DIMENSIONS[model]!;
  if (body.dimensions !== undefined) {
    if (typeof body.dimensions !== 'number' || !Number.isInteger(body.dimensions) || body.dimensions < 32) {
      return fail(req.profile, 422, 'dimensions must be an integer >= 32');
    }
    dims = body.dimensions;
  }
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') return fail(req.profile, 422, 'encoding_format must be one of float, base64');
  const data = texts.map((text, index) => {
    const full = embedText(text, Math.min(dims, EMBEDDING_DIMENSIONS[model]!));
    // Longer than the model's size: padded with zeros, as DeepInfra documents.
    const vector = dims > full.length ? [...full, ...new Array<number>(dims - full.length).fill(0)] : full;
    return { object: 'embedding', index, embedding: format === 'base64' ? float32Base64(vector) : vector };
  });
  const tokens = countTokens(texts);
  return json({ object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

function huggingfaceEmbeddings(req: EmbeddingRequest, body: Record<string, unknown>): MediaResult {
  const model = req.route.model ?? '';
  const modelError = checkModel(req, model);
  if (modelError) return { error: modelError };
  const texts = inputTexts(body.inputs, false);
  if (typeof texts === 'string') return fail(req.profile, 400, texts.replace(/^input/, 'inputs'));
  const limit = EMBEDDING_BATCH_LIMITS.huggingface!;
  if (texts.length > limit) return fail(req.profile, 400, `inputs has ${texts.length} items, at most ${limit} are allowed`);
  const vectors = texts.map((t) => embedText(t, EMBEDDING_DIMENSIONS[model]!));
  // A single string answers one flat vector; a list answers one vector per item.
  return json(typeof body.inputs === 'string' ? vectors[0] : vectors);
}

function cloudflareEmbeddings(req: EmbeddingRequest, body: Record<string, unknown>): MediaResult {
  const model = req.route.model ?? '';
  const modelError = checkModel(req, model);
  if (modelError) return { error: modelError };
  const texts = inputTexts(body.text, false);
  if (typeof texts === 'string') return { error: { status: 400, code: 5006, message: `AiError: Bad input: ${texts.replace(/^input/, "'/text'")}` } };
  const limit = EMBEDDING_BATCH_LIMITS.cloudflare!;
  if (texts.length > limit) return { error: { status: 400, code: 5006, message: `AiError: Bad input: '/text' must have at most ${limit} items` } };
  const dims = EMBEDDING_DIMENSIONS[model]!;
  const data = texts.map((t) => embedText(t, dims));
  return json({ result: { shape: [data.length, dims], data, pooling: 'mean' }, success: true, errors: [], messages: [] });
}

/** The texts to embed, or what is wrong with the input (token arrays become their numbers joined). */
function inputTexts(input: unknown, tokens: boolean): string[] | string {
  const isTokens = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((n) => Number.isInteger(n));
  if (typeof input === 'string') return input === '' ? 'input must not be empty' : [input];
  if (tokens && isTokens(input)) return [input.join(' ')];
  if (!Array.isArray(input) || input.length === 0) return 'input must be a string or a non-empty array of strings';
  if (input.every((s) => typeof s === 'string' && s !== '')) return input as string[];
  if (tokens && input.every(isTokens)) return input.map((t) => t.join(' '));
  return 'input must be a string or a non-empty array of strings';
}

function checkModel(req: EmbeddingRequest, model: string): ErrorSpec | undefined {
  if (!req.models.includes(req.profile.listedId(model))) return req.profile.unknownModel(model);
  if (EMBEDDING_DIMENSIONS[model] === undefined) return { status: 400, code: 5006, message: `Model ${model} does not support feature extraction` };
  return undefined;
}

/** Rendered in the provider's own error shape by the handler. */
function fail(_profile: ProviderProfile, status: number, message: string): MediaResult {
  return { error: { status, message } };
}

function json(body: unknown): MediaResult {
  return { reply: { contentType: 'application/json', body: Buffer.from(JSON.stringify(body)) } };
}
