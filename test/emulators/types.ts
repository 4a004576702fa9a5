export type ProviderId = 'pollinations' | 'deepinfra' | 'together' | 'huggingface' | 'cloudflare' | 'custom';

export const PROVIDER_IDS: readonly ProviderId[] = ['pollinations', 'deepinfra', 'together', 'huggingface', 'cloudflare', 'custom'];

/**
 * The last six are hostile upstreams (see hostile.ts): a gzip bomb (1 GiB of zeros in ~1 MB; a
 * stream sends one content chunk first), an endless line, plain or gzip-compressed, a 300 MB JSON
 * answer without Content-Length, and streams of only `: ping` comments or only empty chunks.
 */
export type FaultMode =
  | 'status'
  | 'hang'
  | 'reset'
  | 'html200'
  | 'garbage200'
  | 'empty200'
  | 'midStreamCut'
  | 'midStreamStall'
  | 'noDone'
  | 'malformedEvents'
  | 'slowFirstByte'
  | 'gzipBomb'
  | 'endlessLine'
  | 'endlessLineGzip'
  | 'hugeJson'
  | 'commentOnly'
  | 'emptyChunks';

export const FAULT_MODES: readonly FaultMode[] = [
  'status',
  'hang',
  'reset',
  'html200',
  'garbage200',
  'empty200',
  'midStreamCut',
  'midStreamStall',
  'noDone',
  'malformedEvents',
  'slowFirstByte',
  'gzipBomb',
  'endlessLine',
  'endlessLineGzip',
  'hugeJson',
  'commentOnly',
  'emptyChunks',
];

export type EndpointKind = 'chat' | 'models' | 'image' | 'speech' | 'embedding' | 'transcription';

export const ENDPOINT_KINDS: readonly EndpointKind[] = ['chat', 'models', 'image', 'speech', 'embedding', 'transcription'];

export interface Fault {
  provider: ProviderId;
  mode: FaultMode;
  /** For mode 'status' (e.g. 500, 429, 401, 402, 403, 400, 503). */
  status?: number;
  /** Error message for mode 'status', rendered in the provider's own error shape. */
  message?: string;
  /** Seconds, sent as Retry-After with mode 'status'. */
  retryAfter?: number;
  /** For slowFirstByte: wait this long before sending status and headers; for commentOnly and emptyChunks: between two writes (default 50). */
  delayMs?: number;
  /**
   * For midStreamCut: delta chunks sent before the connection is cut (default 2); for
   * midStreamStall: before the stream falls silent, its connection left open (default 2); for
   * malformedEvents: before the bad events (default 2). noDone sends the whole answer and its
   * finish chunk, then ends the body without `data: [DONE]`.
   */
  afterChunks?: number;
  /** For malformedEvents: how many events that are not JSON are sent (default 1); the stream then goes on as normal. */
  count?: number;
  /** Apply to the next N matching requests only (default: until cleared). */
  times?: number;
  /** Only requests for this upstream model id. */
  model?: string;
  /** Only requests carrying this bearer key. */
  key?: string;
  /**
   * Only this endpoint kind (default chat): 'image' is every provider's text-to-image route, 'speech' Pollinations' /v1/audio/speech,
   * 'embedding' and 'transcription' the embeddings and speech-recognition routes of DeepInfra, HuggingFace, Cloudflare and custom.
   */
  path?: EndpointKind;
}

/**
 * What an OpenAI-format provider does with a request whose last message is the assistant's
 * (a prefill): `ignore` answers the last user message as if it were not there (today's default,
 * as OpenAI itself does), `continue` continues the assistant's text (Ollama, OpenRouter, Anthropic),
 * `reject` answers 400 as providers that refuse it do (Mistral without `prefix`).
 */
export type PrefillMode = 'ignore' | 'continue' | 'reject';

export const PREFILL_MODES: readonly PrefillMode[] = ['ignore', 'continue', 'reject'];

export interface RecordedRequest {
  provider: ProviderId;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, else the body as text (a multipart or raw audio body: see `bytes`). */
  body: unknown;
  /** The body's length in bytes, as received. */
  bytes: number;
}

/**
 * A provider's budget as upstreams enforce it: so many requests per key per window (fixed windows
 * aligned to the epoch, as the gateway's own fixed windows are), announced on every answer with
 * OpenAI's `x-ratelimit-*` headers, and once used up refused until the window ends: a 429 with
 * Retry-After (a rate limit), or a 402 (a spent credit, as DeepInfra and HuggingFace answer).
 */
export interface RateLimit {
  provider: ProviderId;
  /** Requests each key (the anonymous caller counting as one) may make per window. */
  requests: number;
  windowMs: number;
  /** How a request over the budget is refused (default 429, with Retry-After). */
  status?: 429 | 402;
  /** The refusal's message, in the provider's error shape (default: the provider's own words for the status). */
  message?: string;
  /** Announce the budget in `x-ratelimit-*` headers (default true). */
  headers?: boolean;
}

export interface Framing {
  crlf: boolean;
  noSpace: boolean;
  comments: boolean;
  /** 0 = whole events; N = write the stream in N-byte pieces with a flush between. */
  splitBytes: number;
  multiline: boolean;
}

export interface Pacing {
  /** Content is split into this many stream chunks. */
  chunks: number;
  /** Delay between stream events. */
  chunkDelayMs: number;
}

export interface EmulatorOptions {
  port?: number;
  host?: string;
  /** Forces every pacing delay to 0 (faults with explicit delays still apply). */
  zeroLatency?: boolean;
  chunkDelayMs?: number;
  /** Number of content chunks in a stream (default 5). */
  chunks?: number;
  /** How many of the latest requests requests() returns (default 10,000); older ones are forgotten. */
  recordLimit?: number;
}

export interface Emulator {
  url: string;
  baseUrl(provider: ProviderId): string;
  addFault(f: Fault): void;
  clearFaults(): void;
  setModels(provider: ProviderId, ids: string[]): void;
  setFraming(provider: ProviderId, framing: Partial<Framing>): void;
  /** How a provider treats a trailing assistant message (see PrefillMode); reset() restores `ignore`. */
  setPrefill(provider: ProviderId, mode: PrefillMode): void;
  /**
   * Makes a strict provider take these sampling fields (SAMPLING_EXTRAS) and still refuse the
   * others, as a vLLM or Ollama host behind the custom profile does; reset() restores its own list.
   */
  setSamplingAccepts(provider: ProviderId, fields: readonly string[]): void;
  /** Changes stream pacing at run time; reset() restores the startup options. */
  setPacing(pacing: Partial<Pacing>): void;
  /**
   * Gives a provider a per-key request budget per window, announced in `x-ratelimit-*` headers and
   * refused (429 with Retry-After, or 402) once used up (see rate-limits.ts); reset() removes it.
   */
  setRateLimit(limit: RateLimit): void;
  clearRateLimits(): void;
  requests(provider?: ProviderId): RecordedRequest[];
  /** TCP connections accepted since start (a client reusing keep-alive connections opens few). */
  connectionsAccepted(): number;
  reset(): void;
  close(): Promise<void>;
}

export function isProviderId(value: unknown): value is ProviderId {
  return typeof value === 'string' && (PROVIDER_IDS as readonly string[]).includes(value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
