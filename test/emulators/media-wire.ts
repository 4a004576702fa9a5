import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AUDIO_CONTENT_TYPES, encodeAudio, isAudioFormat, speechDurationMs } from './audio-codec.ts';
import type { AudioFormat } from './audio-codec.ts';
import { encodeImage, IMAGE_CONTENT_TYPES, imageColor } from './image-codec.ts';
import type { ImageFormat } from './image-codec.ts';
import { sendJson } from './http-io.ts';
import type { ParsedBody } from './http-io.ts';
import { isImageModel } from './providers.ts';
import type { ErrorSpec, ProviderProfile, Route } from './providers.ts';
import { isRecord } from './types.ts';

/** A successful image or speech answer, ready to send. */
export interface MediaReply {
  contentType: string;
  body: Buffer;
}

export type MediaResult = { reply: MediaReply } | { error: ErrorSpec };

/** What an image or speech request is answered from. */
export interface MediaRequest {
  profile: ProviderProfile;
  route: Route;
  parsed: ParsedBody;
  query: URLSearchParams;
  /** The provider's current model list. */
  models: readonly string[];
  /** `http://host:port` as the client reached the emulator; Together's image URLs point here. */
  origin: string;
  files: FileStore;
}

/** How the 200-but-useless faults imitate this endpoint. */
export interface MediaFaultShape {
  contentType: string;
  garbage: string;
  empty: string;
}

/** The voices Pollinations' speech endpoint accepts (OpenAI's set). */
export const SPEECH_VOICES: readonly string[] = ['alloy', 'echo', 'fable', 'onyx', 'nova', 'shimmer', 'ash', 'ballad', 'coral', 'sage', 'verse'];

const MAX_SPEECH_INPUT = 4096;
const MAX_IMAGES = 4;
const DEFAULT_SIDE = 1024;
const BINARY_GARBAGE = 'garbage: these bytes are not what the content type says';

// ---------------------------------------------------------------- hosted files (Together image URLs)

export const FILES_PREFIX = '/together/files/';
const MAX_FILES = 500;

interface StoredFile {
  contentType: string;
  body: Buffer;
}

/** Images Together answers with by URL; the oldest are dropped past MAX_FILES. */
export class FileStore {
  #files = new Map<string, StoredFile>();

  put(body: Buffer, format: ImageFormat): string {
    const name = `${randomBytes(12).toString('hex')}.${format === 'png' ? 'png' : 'jpg'}`;
    this.#files.set(name, { contentType: IMAGE_CONTENT_TYPES[format], body });
    if (this.#files.size > MAX_FILES) this.#files.delete(this.#files.keys().next().value as string);
    return name;
  }

  get(name: string): StoredFile | undefined {
    return this.#files.get(name);
  }

  get size(): number {
    return this.#files.size;
  }

  clear(): void {
    this.#files.clear();
  }
}

/** Serves `/together/files/<name>` (no key, like a CDN URL; not recorded as a provider request). */
export function handleFileRequest(req: IncomingMessage, res: ServerResponse, pathname: string, files: FileStore): void {
  req.resume();
  const file = req.method === 'GET' || req.method === 'HEAD' ? files.get(pathname.slice(FILES_PREFIX.length)) : undefined;
  if (!file) return sendJson(res, 404, { error: `no such file: ${pathname}` });
  res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.body.length), 'cache-control': 'public, max-age=3600' });
  res.end(req.method === 'HEAD' ? undefined : file.body);
}

// ---------------------------------------------------------------- dispatch

export function answerMedia(req: MediaRequest): MediaResult {
  if (req.route.kind === 'speech') return pollinationsSpeech(req);
  switch (req.profile.id) {
    case 'pollinations':
      return pollinationsImage(req);
    case 'together':
      return togetherImages(req);
    case 'deepinfra':
      return deepinfraImages(req);
    case 'huggingface':
      return huggingfaceImage(req);
    case 'cloudflare':
      return cloudflareImage(req);
    case 'custom':
      return fail(404, `Unknown endpoint for ${req.profile.id}`);
  }
}

export function mediaFaultShape(profile: ProviderProfile, route: Route, parsed: ParsedBody): MediaFaultShape {
  if (route.kind === 'speech') {
    const format = parsed.ok && isRecord(parsed.value) && isAudioFormat(parsed.value.response_format) ? parsed.value.response_format : 'mp3';
    return { contentType: AUDIO_CONTENT_TYPES[format], garbage: BINARY_GARBAGE, empty: '' };
  }
  switch (profile.id) {
    case 'together':
      return { contentType: 'application/json', garbage: '{"data": [', empty: '{"object":"list","data":[]}' };
    case 'deepinfra':
      return { contentType: 'application/json', garbage: '{"data": [', empty: JSON.stringify({ created: nowSeconds(), data: [] }) };
    case 'cloudflare':
      return {
        contentType: 'application/json',
        garbage: '{"result": {',
        empty: '{"result":{"image":""},"success":true,"errors":[],"messages":[]}',
      };
    case 'huggingface':
      return { contentType: IMAGE_CONTENT_TYPES.png, garbage: BINARY_GARBAGE, empty: '' };
    default:
      return { contentType: IMAGE_CONTENT_TYPES.jpeg, garbage: BINARY_GARBAGE, empty: '' };
  }
}

// ---------------------------------------------------------------- providers

function pollinationsImage(req: MediaRequest): MediaResult {
  const prompt = req.route.prompt ?? '';
  const model = req.route.model ?? 'flux';
  if (prompt.trim() === '') return fail(400, 'prompt is required');
  const width = intParam(req.query.get('width') ?? undefined, 'width', 1, Infinity, DEFAULT_SIDE);
  const height = intParam(req.query.get('height') ?? undefined, 'height', 1, Infinity, DEFAULT_SIDE);
  const seed = intParam(req.query.get('seed') ?? undefined, 'seed', -Infinity, Infinity, undefined);
  const invalid = firstError(width, height, seed) ?? modelError(req, model);
  if (invalid) return { error: invalid };
  return binary('jpeg', num(width), num(height), imageColor(prompt, opt(seed)));
}

function togetherImages(req: MediaRequest): MediaResult {
  const body = jsonBody(req);
  if ('error' in body) return body;
  const { model, prompt } = body.value;
  const base = requireModelAndPrompt(model, prompt);
  if (base) return { error: base };
  const width = intParam(body.value.width, 'width', 1, Infinity, DEFAULT_SIDE);
  const height = intParam(body.value.height, 'height', 1, Infinity, DEFAULT_SIDE);
  const steps = intParam(body.value.steps, 'steps', 1, 100, 4);
  const n = intParam(body.value.n, 'n', 1, MAX_IMAGES, 1);
  const seed = intParam(body.value.seed, 'seed', -Infinity, Infinity, undefined);
  const responseFormat = enumParam(body.value.response_format, 'response_format', ['url', 'b64_json'], 'url');
  const outputFormat = enumParam(body.value.output_format, 'output_format', ['png', 'jpeg'], 'png');
  const invalid = firstError(width, height, steps, n, seed, responseFormat, outputFormat) ?? modelError(req, String(model));
  if (invalid) return { error: invalid };
  const format = str(outputFormat) as ImageFormat;
  const data = images(format, num(width), num(height), String(prompt), opt(seed), num(n)).map((image, index) => {
    if (str(responseFormat) === 'b64_json') return { index, b64_json: image.toString('base64') };
    return { index, url: `${req.origin}${FILES_PREFIX}${req.files.put(image, format)}` };
  });
  return json({ id: randomBytes(12).toString('hex'), model, object: 'list', data });
}

function deepinfraImages(req: MediaRequest): MediaResult {
  const body = jsonBody(req);
  if ('error' in body) return body;
  const { model, prompt, size } = body.value;
  const base = requireModelAndPrompt(model, prompt);
  if (base) return { error: base };
  const dims = parseSize(size ?? `${DEFAULT_SIDE}x${DEFAULT_SIDE}`);
  if (!dims) return { error: badParam('size', 'a string like "1024x1024"') };
  const n = intParam(body.value.n, 'n', 1, MAX_IMAGES, 1);
  const responseFormat = enumParam(body.value.response_format, 'response_format', ['b64_json', 'url'], 'b64_json');
  const invalid = firstError(n, responseFormat) ?? modelError(req, String(model));
  if (invalid) return { error: invalid };
  const data = images('png', dims[0], dims[1], String(prompt), undefined, num(n)).map((image) => {
    const b64 = image.toString('base64');
    // DeepInfra has no file hosting; a `url` answer is a data URL.
    return str(responseFormat) === 'url' ? { url: `data:image/png;base64,${b64}` } : { b64_json: b64 };
  });
  return json({ created: nowSeconds(), data });
}

function huggingfaceImage(req: MediaRequest): MediaResult {
  const body = jsonBody(req);
  if ('error' in body) return body;
  const model = req.route.model ?? '';
  const { inputs } = body.value;
  if (typeof inputs !== 'string' || inputs.trim() === '') return fail(400, 'inputs must be a non-empty string (the prompt)');
  const params = body.value.parameters ?? {};
  if (!isRecord(params)) return fail(400, 'parameters must be an object');
  const width = intParam(params.width, 'width', 1, Infinity, DEFAULT_SIDE);
  const height = intParam(params.height, 'height', 1, Infinity, DEFAULT_SIDE);
  const seed = intParam(params.seed, 'seed', -Infinity, Infinity, undefined);
  const steps = intParam(params.num_inference_steps, 'num_inference_steps', 1, 100, 4);
  const invalid = firstError(width, height, seed, steps) ?? modelError(req, model);
  if (invalid) return { error: invalid };
  return binary('png', num(width), num(height), imageColor(inputs, opt(seed)));
}

function cloudflareImage(req: MediaRequest): MediaResult {
  const body = jsonBody(req);
  if ('error' in body) return { error: { ...body.error, code: 5006 } };
  const model = req.route.model ?? '';
  const { prompt } = body.value;
  if (typeof prompt !== 'string' || prompt.length === 0 || prompt.length > 2048) {
    return { error: { status: 400, code: 5006, message: "AiError: Bad input: Error: Type mismatch of '/prompt', 'string' required (1-2048 characters)" } };
  }
  const steps = intParam(body.value.steps, 'steps', 1, 8, 4);
  const seed = intParam(body.value.seed, 'seed', 0, Infinity, undefined);
  const paramError = firstError(steps, seed);
  if (paramError) return { error: { ...paramError, code: 5006, message: `AiError: Bad input: ${paramError.message}` } };
  const invalid = modelError(req, model);
  if (invalid) return { error: invalid };
  const [image] = images('jpeg', DEFAULT_SIDE, DEFAULT_SIDE, prompt, opt(seed), 1);
  return json({ result: { image: image.toString('base64') }, success: true, errors: [], messages: [] });
}

function pollinationsSpeech(req: MediaRequest): MediaResult {
  const body = jsonBody(req);
  if ('error' in body) return body;
  const { model, input, voice } = body.value;
  if (typeof model !== 'string' || model === '') return fail(400, 'model is required');
  if (typeof input !== 'string' || input === '') return fail(400, 'input must be a non-empty string');
  if ([...input].length > MAX_SPEECH_INPUT) return fail(400, `input must be at most ${MAX_SPEECH_INPUT} characters`);
  if (typeof voice !== 'string' || !SPEECH_VOICES.includes(voice)) {
    return fail(400, `Invalid voice: ${String(voice)}. Supported voices: ${SPEECH_VOICES.join(', ')}`);
  }
  const format = enumParam(body.value.response_format, 'response_format', Object.keys(AUDIO_CONTENT_TYPES), 'mp3');
  const speed = body.value.speed ?? 1;
  const speedError = typeof speed === 'number' && speed >= 0.25 && speed <= 4 ? undefined : badParam('speed', 'a number from 0.25 to 4.0');
  const invalid = firstError(format) ?? speedError ?? listedError(req, model);
  if (invalid) return { error: invalid };
  if (isImageModel(model)) return fail(400, `Model ${model} does not support speech`);
  const audioFormat = str(format) as AudioFormat;
  const toneHz = 180 + 20 * SPEECH_VOICES.indexOf(voice);
  return { reply: { contentType: AUDIO_CONTENT_TYPES[audioFormat], body: encodeAudio(audioFormat, speechDurationMs(input, Number(speed)), toneHz) } };
}

// ---------------------------------------------------------------- helpers

type Param<T> = { value: T } | { error: ErrorSpec };

function fail(status: number, message: string): { error: ErrorSpec } {
  return { error: { status, message } };
}

function badParam(name: string, expected: string): ErrorSpec {
  return { status: 400, message: `${name} must be ${expected}` };
}

function intParam<T extends number | undefined>(raw: unknown, name: string, min: number, max: number, fallback: T): Param<number | T> {
  if (raw === undefined || raw === null) return { value: fallback };
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = Number.isFinite(min) && Number.isFinite(max) ? ` from ${min} to ${max}` : Number.isFinite(min) ? ` >= ${min}` : '';
    return { error: badParam(name, `an integer${range}`) };
  }
  return { value };
}

function enumParam(raw: unknown, name: string, allowed: readonly string[], fallback: string): Param<string> {
  if (raw === undefined || raw === null) return { value: fallback };
  if (typeof raw === 'string' && allowed.includes(raw)) return { value: raw };
  return { error: badParam(name, `one of ${allowed.join(', ')}`) };
}

function firstError(...params: Param<unknown>[]): ErrorSpec | undefined {
  for (const p of params) if ('error' in p) return p.error;
  return undefined;
}

function num(p: Param<number | undefined>): number {
  return 'value' in p && p.value !== undefined ? p.value : 0;
}

function opt(p: Param<number | undefined>): number | undefined {
  return 'value' in p ? p.value : undefined;
}

function str(p: Param<string>): string {
  return 'value' in p ? p.value : '';
}

function jsonBody(req: MediaRequest): { value: Record<string, unknown> } | { error: ErrorSpec } {
  if (!req.parsed.ok || !isRecord(req.parsed.value)) return fail(400, 'Request body must be a JSON object');
  return { value: req.parsed.value };
}

function parseSize(size: unknown): [number, number] | undefined {
  const match = typeof size === 'string' ? /^(\d+)x(\d+)$/.exec(size) : null;
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) return undefined;
  return [Number(match[1]), Number(match[2])];
}

function requireModelAndPrompt(model: unknown, prompt: unknown): ErrorSpec | undefined {
  if (typeof model !== 'string' || model === '') return { status: 400, message: 'model is required' };
  if (typeof prompt !== 'string' || prompt.trim() === '') return { status: 400, message: 'prompt is required' };
  return undefined;
}

function listedError(req: MediaRequest, model: string): ErrorSpec | undefined {
  return req.models.includes(req.profile.listedId(model)) ? undefined : req.profile.unknownModel(model);
}

/** Not in the provider's list → its unknown-model error; listed but not a text-to-image model → 400. */
function modelError(req: MediaRequest, model: string): ErrorSpec | undefined {
  const unlisted = listedError(req, model);
  if (unlisted) return unlisted;
  if (!isImageModel(model)) return { status: 400, message: `Model ${model} does not support image generation`, code: 5006 };
  return undefined;
}

function images(format: ImageFormat, width: number, height: number, prompt: string, seed: number | undefined, n: number): Buffer[] {
  return Array.from({ length: n }, (_, index) => encodeImage(format, width, height, imageColor(prompt, seed, index)));
}

function binary(format: ImageFormat, width: number, height: number, color: readonly [number, number, number]): MediaResult {
  return { reply: { contentType: IMAGE_CONTENT_TYPES[format], body: encodeImage(format, width, height, color) } };
}

function json(body: unknown): MediaResult {
  return { reply: { contentType: 'application/json', body: Buffer.from(JSON.stringify(body)) } };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
