/**
 * OpenAI wire types the gateway speaks to its clients (and that most upstreams speak too).
 * Only the fields the gateway reads or writes are typed; everything else passes through.
 */

export type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';

export interface TextContentPart {
  type: 'text';
  text: string;
}

export interface ImageContentPart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}

export interface OtherContentPart {
  type: string;
  [key: string]: unknown;
}

export type ContentPart = TextContentPart | ImageContentPart | OtherContentPart;

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: Role;
  content?: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  reasoning_content?: string;
  [key: string]: unknown;
}

export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  /** Gateway extension: force one provider (case-insensitive name). */
  provider?: string;
  temperature?: number | null;
  top_p?: number | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  user?: string;
  tools?: unknown[];
  tool_choice?: unknown;
  response_format?: unknown;
  reasoning_effort?: string;
  [key: string]: unknown;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Present when the upstream counted reasoning tokens (part of `completion_tokens`). */
  completion_tokens_details?: { reasoning_tokens: number };
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: Array<{
    index: number;
    message: {
      role: 'assistant';
      content: string | null;
      refusal: null;
      reasoning_content?: string;
      tool_calls?: ToolCall[];
    };
    logprobs: null;
    finish_reason: FinishReason;
  }>;
  usage: Usage;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: Array<{
    index: number;
    delta: {
      role?: 'assistant';
      content?: string | null;
      reasoning_content?: string;
      tool_calls?: ToolCallDelta[];
    };
    logprobs?: null;
    finish_reason: FinishReason | null;
  }>;
  usage?: Usage | null;
}

/** `POST /v1/images/generations` (and the console's `POST /api/images/test`): OpenAI's body plus the gateway's extensions. */
export interface ImageGenerationRequest {
  /** A catalog image model; the gateway's default when absent. */
  model?: string;
  prompt: string;
  n?: number;
  /** `auto` or `WIDTHxHEIGHT`. */
  size?: string;
  response_format?: 'url' | 'b64_json';
  quality?: string;
  style?: string;
  user?: string;
  /** Gateway extension: force one provider (case-insensitive name). */
  provider?: string;
  seed?: number;
  steps?: number;
  negative_prompt?: string;
}

/** OpenAI's `Image` object, as the gateway fills it. */
export type ImageData = ({ url: string } | { b64_json: string }) & { revised_prompt?: string };

export interface ImagesResponse {
  created: number;
  data: ImageData[];
}

export interface ModelObject {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

/** A model of `GET /v1/models?all=true`: OpenAI's model object plus whether it can be served now. */
export interface ModelObjectWithState extends ModelObject {
  /** Some route goes to a provider that is enabled and configured (breakers aside). */
  available: boolean;
  /** Why not, per route; null when available. */
  reason: string | null;
}

export interface ModelList {
  object: 'list';
  data: ModelObject[];
}

export interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

export interface OpenAIErrorEnvelope {
  error: OpenAIErrorBody & { attempts?: AttemptSummary[] };
}

/** One try of one upstream, as reported in failure messages and the request log. */
/**
 * A stable name for how one upstream attempt ended, for the request log and the console (which
 * says it in Chinese); `reason` keeps the upstream's own words.
 */
export type AttemptCode =
  | 'ok'
  | 'skipped_cooling'
  | 'upstream_html'
  | 'upstream_5xx'
  | 'upstream_timeout'
  | 'network_error'
  | 'rate_limited'
  | 'auth_failed'
  | 'payment_required'
  | 'upstream_4xx'
  | 'invalid_answer'
  | 'aborted';

export interface AttemptSummary {
  provider: string;
  upstream_model: string;
  /** The upstream key used, masked ("****x9f2": at most its last 4 characters); absent when none was picked. */
  key?: string;
  status: number | null;
  reason: string;
  latency_ms: number;
  /** How it ended (absent in records from before codes): see AttemptCode. */
  code?: AttemptCode;
  /** Stream events skipped for not being JSON (absent when none). */
  malformed_events?: number;
  /** A stream resumed on this attempt (STREAM_RESUME): what the client already had when the attempt before it broke, and why it broke. */
  resumed_after?: ResumePoint;
}

/** Where a resumed stream picked up: the text already sent, in characters and (counted) tokens, and the break. */
export interface ResumePoint {
  chars: number;
  tokens: number;
  reason: string;
}
