import { createHash } from 'node:crypto';
import { isEmbeddingModel } from './embedding-wire.ts';
import type { OpenAiDialect } from './openai-wire.ts';
import type { EndpointKind, ProviderId } from './types.ts';

export interface Route {
  kind: EndpointKind;
  /** Set when the model is part of the path or query (Cloudflare, HuggingFace and Pollinations images). */
  model?: string;
  /** Set when the prompt is part of the path (Pollinations images). */
  prompt?: string;
}

export interface ErrorSpec {
  status: number;
  message: string;
  /** Provider-specific numeric code (Cloudflare). */
  code?: number;
}

/** Everything that makes one upstream look like itself on the wire. */
export interface ProviderProfile {
  id: ProviderId;
  /** Path of the base URL below the emulator's root. */
  prefix: string;
  keyRequired: boolean;
  format: 'openai' | 'cloudflare';
  dialect: OpenAiDialect;
  route(method: string, rest: string, query: URLSearchParams): Route | undefined;
  errorBody(error: ErrorSpec): unknown;
  defaultMessage(status: number): string;
  modelsBody(ids: readonly string[]): unknown;
  unknownModel(model: string): ErrorSpec;
  /** The id to look up in the model list (HuggingFace accepts a `:provider` suffix). */
  listedId(model: string): string;
  /**
   * Strict upstreams: the sampling fields beyond OpenAI's (SAMPLING_EXTRAS) that this one takes;
   * a chat request carrying any other is refused with 400 in `strayField`'s words. Absent: every
   * field is taken (or ignored) as lenient hosts do.
   */
  strictSampling?: { accepts: readonly string[]; strayField(field: string): string };
}

/** Sampling fields open-model hosts take that OpenAI's chat API lacks. */
export const SAMPLING_EXTRAS = ['top_k', 'min_p', 'top_a', 'typical_p', 'tfs_z', 'repetition_penalty', 'length_penalty', 'min_tokens', 'mirostat'] as const;

/** A strict profile's refusal of the first sampling field in this body that it does not take (`accepts`, when given, replaces the profile's list). */
export function straySamplingError(profile: ProviderProfile, body: Record<string, unknown>, accepts?: readonly string[]): string | undefined {
  const strict = profile.strictSampling;
  const taken = accepts ?? strict?.accepts ?? [];
  const stray = strict && SAMPLING_EXTRAS.find((field) => body[field] !== undefined && !taken.includes(field));
  return strict && stray !== undefined ? strict.strayField(stray) : undefined;
}

const CREATED = 1_700_000_000;

const GENERIC_MESSAGES: Record<number, string> = {
  400: 'Bad request',
  401: 'Invalid API key',
  402: 'Payment required',
  403: 'Forbidden',
  404: 'Not found',
  429: 'Rate limit exceeded',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

function messages(overrides: Record<number, string>): (status: number) => string {
  return (status) => overrides[status] ?? GENERIC_MESSAGES[status] ?? `HTTP ${status}`;
}

const OPENAI_ERROR_KINDS: Record<number, { type: string; code: string | null }> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  402: { type: 'billing_error', code: 'insufficient_quota' },
  403: { type: 'permission_error', code: null },
  404: { type: 'invalid_request_error', code: 'model_not_found' },
  429: { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
};

export function openAiErrorBody(error: ErrorSpec): unknown {
  const kind = OPENAI_ERROR_KINDS[error.status] ?? { type: 'server_error', code: null };
  return { error: { message: error.message, type: kind.type, param: null, code: kind.code } };
}

const POLLINATIONS_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  402: 'PAYMENT_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  429: 'RATE_LIMITED',
  500: 'INTERNAL_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

const CLOUDFLARE_CODES: Record<number, number> = {
  400: 5006,
  401: 10000,
  402: 3035,
  403: 10000,
  404: 7000,
  429: 3036,
  503: 3040,
};

function openAiRoutes(chatPath: string, modelsPath: string, imagePath?: string, audioAndEmbeddings = false): ProviderProfile['route'] {
  return (method, rest) => {
    if (method === 'POST' && rest === chatPath) return { kind: 'chat' };
    if (method === 'GET' && rest === modelsPath) return { kind: 'models' };
    if (imagePath !== undefined && method === 'POST' && rest === imagePath) return { kind: 'image' };
    if (audioAndEmbeddings && method === 'POST' && rest === '/embeddings') return { kind: 'embedding' };
    if (audioAndEmbeddings && method === 'POST' && rest === '/audio/transcriptions') return { kind: 'transcription' };
    return undefined;
  };
}

function openAiList(ids: readonly string[], ownedBy: string): unknown {
  return { object: 'list', data: ids.map((id) => ({ id, object: 'model', created: CREATED, owned_by: ownedBy })) };
}

const IMAGE_MODEL = /flux|stable-diffusion|sdxl|dall-e|dreamshaper|kontext|gpt-?image|^turbo$|imagen|seedream|hidream/i;

const TRANSCRIPTION_MODEL = /whisper/i;

/** Whether an upstream id names a speech-recognition model. */
export function isTranscriptionModel(id: string): boolean {
  return TRANSCRIPTION_MODEL.test(id);
}

/** Whether an upstream id names a text-to-image model (by name, as the providers' own ids do). */
export function isImageModel(id: string): boolean {
  return IMAGE_MODEL.test(id);
}

/** A path segment that may not be valid percent-encoding. */
function decodeSegment(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

const POLLINATIONS_IMAGE = /^\/image\/(.+)$/;
const HF_INFERENCE = /^\/hf-inference\/models\/([^/]+\/[^/]+|[^/]+)$/;
const HF_FEATURE_EXTRACTION = /^\/hf-inference\/models\/([^/]+\/[^/]+|[^/]+)\/pipeline\/feature-extraction$/;

const identity = (model: string): string => model;

const pollinations: ProviderProfile = {
  id: 'pollinations',
  prefix: '/pollinations',
  keyRequired: false,
  format: 'openai',
  dialect: { streamUsage: 'never' },
  route: (method, rest, query) => {
    const image = POLLINATIONS_IMAGE.exec(rest);
    if (method === 'GET' && image) return { kind: 'image', model: query.get('model') ?? 'flux', prompt: decodeSegment(image[1]) ?? '' };
    if (method === 'POST' && rest === '/v1/audio/speech') return { kind: 'speech' };
    return openAiRoutes('/v1/chat/completions', '/v1/models')(method, rest, query);
  },
  errorBody: (e) => ({
    status: e.status,
    success: false,
    error: { code: POLLINATIONS_CODES[e.status] ?? `HTTP_${e.status}`, message: e.message },
  }),
  defaultMessage: messages({ 401: 'Authentication required', 402: 'Insufficient pollen balance' }),
  modelsBody: (ids) => ({ object: 'list', data: ids.map((id) => ({ id, object: 'model', created: CREATED })) }),
  unknownModel: (model) => ({ status: 404, message: `Model not found: ${model}` }),
  listedId: identity,
  // Its request schema is OpenAI's and refuses keys it does not know.
  strictSampling: { accepts: [], strayField: (field) => `Unrecognized key(s) in object: '${field}'` },
};

const deepinfra: ProviderProfile = {
  id: 'deepinfra',
  prefix: '/deepinfra/v1/openai',
  keyRequired: true,
  format: 'openai',
  dialect: {
    streamUsage: 'finishChunk',
    usageExtras: (u) => ({ estimated_cost: Number((u.total_tokens * 0.0000002).toFixed(8)) }),
  },
  route: openAiRoutes('/chat/completions', '/models', '/images/generations', true),
  errorBody: openAiErrorBody,
  defaultMessage: messages({ 401: 'Not authenticated', 402: 'You need positive balance', 429: 'Rate limited' }),
  modelsBody: (ids) => openAiList(ids, 'deepinfra'),
  unknownModel: (model) => ({ status: 404, message: `The model '${model}' does not exist` }),
  listedId: identity,
};

const together: ProviderProfile = {
  id: 'together',
  prefix: '/together/v1',
  keyRequired: true,
  format: 'openai',
  dialect: { streamUsage: 'finishChunk', completionExtras: { prompt: [], warnings: [] }, nullUsageOnChunks: true },
  route: openAiRoutes('/chat/completions', '/models', '/images/generations'),
  errorBody: openAiErrorBody,
  defaultMessage: messages({
    401: 'Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys.',
    402: 'Credit limit exceeded',
  }),
  modelsBody: (ids) =>
    ids.map((id) => ({
      id,
      object: 'model',
      created: CREATED,
      type: isImageModel(id) ? 'image' : 'chat',
      display_name: id.split('/').at(-1) ?? id,
      organization: id.includes('/') ? id.split('/')[0] : 'together',
      context_length: 131072,
    })),
  unknownModel: (model) => ({
    status: 404,
    message: `Unable to access model ${model}. Please visit https://api.together.ai/models to view the list of supported models.`,
  }),
  listedId: identity,
};

const huggingface: ProviderProfile = {
  id: 'huggingface',
  prefix: '/huggingface',
  keyRequired: true,
  format: 'openai',
  dialect: { streamUsage: 'whenRequested' },
  route: (method, rest, query) => {
    const features = HF_FEATURE_EXTRACTION.exec(rest);
    if (method === 'POST' && features) return { kind: 'embedding', model: decodeSegment(features[1]) ?? features[1] };
    const image = HF_INFERENCE.exec(rest);
    if (method === 'POST' && image) {
      // One path serves text-to-image and speech recognition; the model decides which.
      const model = decodeSegment(image[1]) ?? image[1];
      return { kind: isTranscriptionModel(model) ? 'transcription' : 'image', model };
    }
    return openAiRoutes('/v1/chat/completions', '/v1/models')(method, rest, query);
  },
  // The router's own errors are a bare string under "error", not OpenAI's object.
  errorBody: (e) => ({ error: e.message }),
  defaultMessage: messages({
    401: 'Invalid credentials in Authorization header',
    402: 'You have exceeded your monthly included credits for Inference Providers. Subscribe to PRO to get 20x more monthly included credits.',
  }),
  modelsBody: (ids) => openAiList(ids, 'huggingface'),
  unknownModel: (model) => ({ status: 404, message: `Model ${model} is not supported by any provider you have enabled.` }),
  listedId: (model) => model.replace(/:[^/:]+$/, ''),
  // The router's chat spec is OpenAI's fields; the inference providers behind it refuse others.
  strictSampling: { accepts: [], strayField: (field) => `Failed to deserialize the JSON body into the target type: unknown field \`${field}\`` },
};

const CLOUDFLARE_RUN = /^\/accounts\/([^/]+)\/ai\/run\/(.+)$/;
const CLOUDFLARE_SEARCH = /^\/accounts\/([^/]+)\/ai\/models\/search$/;

const cloudflare: ProviderProfile = {
  id: 'cloudflare',
  prefix: '/cloudflare/client/v4',
  keyRequired: true,
  format: 'cloudflare',
  dialect: { streamUsage: 'finishChunk' },
  route: (method, rest) => {
    const run = CLOUDFLARE_RUN.exec(rest);
    if (method === 'POST' && run) {
      // One path serves every Workers AI task; the model decides which.
      const model = decodeSegment(run[2]) ?? run[2];
      const kind = isImageModel(model) ? 'image' : isTranscriptionModel(model) ? 'transcription' : isEmbeddingModel(model) ? 'embedding' : 'chat';
      return { kind, model };
    }
    if (method === 'GET' && CLOUDFLARE_SEARCH.test(rest)) return { kind: 'models' };
    return undefined;
  },
  errorBody: (e) => ({
    success: false,
    errors: [{ code: e.code ?? CLOUDFLARE_CODES[e.status] ?? 3043, message: e.message }],
    result: null,
  }),
  defaultMessage: messages({
    401: 'Authentication error',
    402: 'Payment required: Workers AI allowance exhausted',
    429: "You have used up your daily free allocation of 10,000 neurons, please upgrade to Cloudflare's Workers Paid plan if you would like to continue usage.",
    503: 'Capacity temporarily exceeded, please try again.',
  }),
  modelsBody: (ids) => ({
    result: ids.map((name) => ({
      id: createHash('sha1').update(name).digest('hex').slice(0, 32),
      name,
      description: name,
      task: isImageModel(name) ? { name: 'Text-to-Image' } : { name: 'Text Generation' },
    })),
    success: true,
    errors: [],
    messages: [],
  }),
  unknownModel: (model) => ({ status: 400, code: 5007, message: `No such model ${model} or task` }),
  listedId: identity,
  // The text-generation schema lists top_k and repetition_penalty and rejects what it does not list.
  strictSampling: { accepts: ['top_k', 'repetition_penalty'], strayField: (field) => `Type mismatch of '/${field}', '${field}' not in schema` },
};

const custom: ProviderProfile = {
  id: 'custom',
  prefix: '/custom/v1',
  keyRequired: false,
  format: 'openai',
  dialect: { streamUsage: 'whenRequested' },
  route: openAiRoutes('/chat/completions', '/models', undefined, true),
  errorBody: openAiErrorBody,
  defaultMessage: messages({}),
  modelsBody: (ids) => openAiList(ids, 'library'),
  unknownModel: (model) => ({ status: 404, message: `The model \`${model}\` does not exist` }),
  listedId: identity,
  // OpenAI itself (and Groq, Gemini's OpenAI endpoint) refuse arguments they do not know.
  strictSampling: { accepts: [], strayField: (field) => `Unrecognized request argument supplied: ${field}` },
};

export const PROFILES: Record<ProviderId, ProviderProfile> = {
  pollinations,
  deepinfra,
  together,
  huggingface,
  cloudflare,
  custom,
};

/** Finds the provider whose base URL prefixes the path, and the path below it. */
export function profileFor(pathname: string): { profile: ProviderProfile; rest: string } | undefined {
  for (const profile of Object.values(PROFILES)) {
    if (pathname.startsWith(`${profile.prefix}/`)) return { profile, rest: pathname.slice(profile.prefix.length) };
  }
  return undefined;
}
