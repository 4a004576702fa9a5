import type { Observable } from 'rxjs';
import type { ChatMessage, FinishReason, ToolCallDelta, Usage } from '#contracts';
import type { ProviderDeclaration } from './provider-declaration.ts';
import type { ClientFlow, UpstreamCall, UpstreamHttp } from './upstream-http.ts';

export { UpstreamError, shortReason, type FailureKind } from './upstream-errors.ts';
export type { ClientFlow } from './upstream-http.ts';

/** What the router hands to an adapter: the client's request, normalized. */
export interface ChatRequest {
  /** The gateway model id the client asked for. */
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  /**
   * Generation parameters to pass through as the client sent them (temperature, top_p,
   * max_tokens, max_completion_tokens, stop, seed, presence_penalty, frequency_penalty,
   * user, tools, tool_choice, response_format, reasoning_effort, parallel_tool_calls, ...).
   * Gateway-only fields (model, messages, stream, stream_options, provider) are not in here.
   */
  params: Record<string, unknown>;
  /** True when any message carries an image content part. */
  hasImages: boolean;
}

/**
 * What a chat request may need beyond plain text that a mapping might not carry: function
 * calling, forcing a tool call, JSON mode, structured output, stop sequences, reasoning. Image
 * input is `acceptsImageInput`; `n` > 1 is refused for every route (one choice per answer).
 */
export type ChatFeature = 'tools' | 'tool_choice' | 'json_object' | 'json_schema' | 'stop' | 'reasoning';

/** Everything an adapter needs for one upstream call. */
export interface UpstreamContext {
  /** The model id this provider expects. */
  upstreamModel: string;
  /** Base URL, already overridden by `<P>_BASE_URL` or the console; no trailing slash. */
  baseUrl: string;
  /** The key picked from the provider's pool, if it has one. */
  apiKey?: string;
  /** Provider-specific settings (e.g. Cloudflare's `accountId`). */
  extra: Record<string, string>;
  /** Aborted when the client goes away or the gateway gives up on this attempt. */
  signal: AbortSignal;
  http: UpstreamHttp;
  /** Proxy URL for this provider, resolved from `<P>_PROXY` or the standard env vars. */
  proxy?: string;
  /** For a stream: the client's side, so that the upstream is not read faster than the client reads. */
  flow?: ClientFlow;
  /** Told of each stream event skipped for not being JSON (its start), so the attempt can count it. */
  onMalformed?: (sample: string) => void;
  /** Told each upstream answer's status and headers (the quota ledger counts the key's use and reads rate-limit headers). */
  onResponse?: UpstreamCall['onResponse'];
}

export type ChatEvent =
  | { type: 'delta'; content?: string; reasoning?: string; toolCalls?: ToolCallDelta[] }
  /** `stopSequence`: which of the request's stop sequences ended the answer, when the upstream says (vLLM's `stop_reason`). */
  | { type: 'finish'; reason: FinishReason; stopSequence?: string }
  | { type: 'usage'; usage: Usage; estimated: boolean };

export interface UpstreamModel {
  id: string;
  /** What the provider says the model does, when it says (Together's `type`). */
  type?: string;
}

/** One image generation call, normalized from OpenAI's `/v1/images/generations` body. */
export interface ImageRequest {
  prompt: string;
  /** How many images this call should make; adapters whose upstream makes one per call return one. */
  n: number;
  width: number;
  height: number;
  seed?: number;
  /** Passed through where the upstream takes them (quality, style, negative_prompt, steps...). */
  params: Record<string, unknown>;
}

/** Either the image itself or an upstream URL that serves it. */
export type GeneratedImage = { data: Buffer; mime: string } | { url: string };

export interface ImageResult {
  images: GeneratedImage[];
  revisedPrompt?: string;
}

export type SpeechFormat = 'mp3' | 'opus' | 'aac' | 'flac' | 'wav' | 'pcm';

export interface SpeechRequest {
  input: string;
  voice: string;
  format: SpeechFormat;
  speed?: number;
  instructions?: string;
}

export interface AudioResult {
  data: Buffer;
  mime: string;
}

/** One embeddings call: at most the adapter's `embeddings.batchLimit` inputs. */
export interface EmbeddingRequest {
  /** Texts, or token arrays where the adapter takes them (`embeddings.tokens`). */
  input: string[] | number[][];
  /** Only sent to adapters whose `embeddings.dimensions` is true. */
  dimensions?: number;
  user?: string;
}

export interface EmbeddingResult {
  /** One vector per input, in input order (checked by the caller: count, length, finite numbers). */
  vectors: number[][];
  /** Input tokens as the upstream counted them, when it says. */
  promptTokens?: number;
}

/** What an adapter's embeddings route can take. */
export interface EmbeddingSupport {
  /** Inputs per upstream call (the provider's documented limit); bigger batches are split. */
  batchLimit: number;
  /** Whether token arrays (OpenAI's `input: number[][]`) can be sent. */
  tokens: boolean;
  /** Whether the client's `dimensions` can be passed on. */
  dimensions: boolean;
}

/** What an adapter's speech-recognition route gives. */
export interface TranscriptionSupport {
  /** Whether answers carry timed segments (routes without them cannot serve srt or vtt). */
  segments: boolean;
}

/** One speech-recognition call, normalized from OpenAI's multipart `/v1/audio/transcriptions`. */
export interface TranscriptionRequest {
  audio: Buffer;
  filename: string;
  mime: string;
  language?: string;
  prompt?: string;
  temperature?: number;
}

export interface TranscriptSegment {
  /** Seconds from the start. */
  start: number;
  end: number;
  text: string;
}

export interface TranscriptionResult {
  text: string;
  language?: string;
  /** Seconds of audio, when the upstream says. */
  duration?: number;
  /** Timed segments, when the route gives them (needed for srt, vtt and verbose_json's segments). */
  segments?: TranscriptSegment[];
}

export interface ProviderAdapter {
  /** Stable lower-case id, used in env names and URLs: 'deepinfra'. */
  readonly id: string;
  /** A built-in provider's own account of its environment and model ids; operators' upstreams have none. */
  readonly declaration?: ProviderDeclaration;
  /** Display name, as clients spell it in the `provider` field: 'DeepInfra'. */
  readonly name: string;
  readonly defaultBaseUrl: string;
  readonly requiresKey: boolean;
  /** Settings beyond base URL and keys that must be present (e.g. Cloudflare's account id). */
  readonly requiredExtra?: readonly string[];
  /**
   * A cold Observable of chat events for one upstream call. Subscribing sends the request;
   * unsubscribing aborts it. Errors are `UpstreamError`s. Non-stream requests emit their whole
   * answer as one delta followed by finish and usage.
   */
  chat(req: ChatRequest, ctx: UpstreamContext): Observable<ChatEvent>;
  listModels?(ctx: UpstreamContext): Promise<UpstreamModel[]>;
  /** Image generation; rejects with UpstreamError like chat. */
  image?(req: ImageRequest, ctx: UpstreamContext): Promise<ImageResult>;
  /** Text to speech; rejects with UpstreamError like chat. */
  speech?(req: SpeechRequest, ctx: UpstreamContext): Promise<AudioResult>;
  /** Text embeddings; rejects with UpstreamError like chat. Present with `embeddings`. */
  embed?(req: EmbeddingRequest, ctx: UpstreamContext): Promise<EmbeddingResult>;
  readonly embeddings?: EmbeddingSupport;
  /** Speech to text; rejects with UpstreamError like chat. */
  transcribe?(req: TranscriptionRequest, ctx: UpstreamContext): Promise<TranscriptionResult>;
  readonly transcriptions?: TranscriptionSupport;
  /**
   * The neurons (or like units a free tier is measured in) an answer's usage cost, estimated, for
   * upstreams whose answers do not say; undefined for a model without a known rate. Counted by the quota ledger.
   */
  neurons?(upstreamModel: string, usage: Pick<Usage, 'prompt_tokens' | 'completion_tokens'>): number | undefined;
  /** False when the provider cannot take image content parts in chat (routing skips it then). */
  readonly acceptsImageInput?: boolean;
  /**
   * Whether this provider's mapping carries `feature` to `upstreamModel`; absent means every field
   * passes through as OpenAI's format has it. Routing sends a request only to routes that carry
   * everything it needs, and refuses it (400) when none can, rather than answer without it.
   */
  honours?(feature: ChatFeature, upstreamModel: string): boolean;
}

/** What differs between one adapter's upstream calls; the rest of the call comes from the context. */
export interface UpstreamCallInit {
  method: UpstreamCall['method'];
  url: string;
  body?: unknown;
  /** Beside the key's authorization header (e.g. `accept` for media). */
  headers?: Record<string, string>;
  /** The attempt's own signal inside `observeUpstream`; the context's otherwise. */
  signal?: AbortSignal;
}

/** One upstream call: the picked key as a bearer token, the context's abort signal and the provider's proxy. */
export function upstreamCall(ctx: UpstreamContext, init: UpstreamCallInit): UpstreamCall {
  const auth: Record<string, string> = ctx.apiKey ? { authorization: `Bearer ${ctx.apiKey}` } : {};
  return {
    method: init.method,
    url: init.url,
    headers: { ...auth, ...init.headers },
    body: init.body,
    signal: init.signal ?? ctx.signal,
    proxy: ctx.proxy,
    ...(ctx.onResponse ? { onResponse: ctx.onResponse } : {}),
  };
}
