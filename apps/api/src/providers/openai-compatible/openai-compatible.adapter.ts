import type { Observable } from 'rxjs';
import { observeUpstream } from '../observe-upstream.ts';
import { chatStreamEvents } from '../sse-payloads.ts';
import {
  UpstreamError,
  upstreamCall,
  type ChatEvent,
  type ChatRequest,
  type EmbeddingRequest,
  type EmbeddingResult,
  type EmbeddingSupport,
  type ProviderAdapter,
  type TranscriptionRequest,
  type TranscriptionResult,
  type TranscriptionSupport,
  type UpstreamContext,
  type UpstreamModel,
} from '../provider-adapter.ts';
import { requiredExtra, type ProviderDeclaration } from '../provider-declaration.ts';
import { buildOpenAIEmbeddingBody, parseOpenAIEmbeddings } from './openai-embeddings.ts';
import { buildOpenAIChatBody, chunkToEvents, completionToEvents } from './openai-mapping.ts';
import { buildOpenAITranscriptionBody, parseOpenAITranscription } from './openai-transcriptions.ts';

export interface OpenAICompatibleOptions {
  id: string;
  name: string;
  defaultBaseUrl: string;
  requiresKey: boolean;
  /** A built-in provider's declaration (its id is the adapter's). */
  declaration?: ProviderDeclaration;
  /** An operator's upstream: the extra sampling fields its definition lists (a built-in provider's come from its declaration). */
  samplingParams?: readonly string[];
  /** Relative to the base URL. */
  chatPath?: string;
  modelsPath?: string;
  /** Set where the upstream serves OpenAI's `/embeddings` (relative to the base URL). */
  embeddings?: EmbeddingSupport;
  /** Set where the upstream serves OpenAI's multipart `/audio/transcriptions`. */
  transcriptions?: TranscriptionSupport;
}

/** An operator's OpenAI-compatible upstream (vLLM, Ollama, SiliconFlow): OpenAI's own limit of 2048 inputs, token arrays and `dimensions`. */
export const OPENAI_EMBEDDINGS: EmbeddingSupport = { batchLimit: 2048, tokens: true, dimensions: true };

/** Parses `{data:[{id}]}` (OpenAI) or a bare array of models (Together). */
export function parseModelList(json: unknown): UpstreamModel[] {
  const items = Array.isArray(json) ? json : (json as { data?: unknown })?.data;
  if (!Array.isArray(items)) throw new UpstreamError('invalid', 'model list is not a list');
  return items
    .filter((m): m is { id: string; type?: unknown } => typeof (m as { id?: unknown })?.id === 'string')
    .map((m) => ({ id: m.id, type: typeof m.type === 'string' ? m.type : undefined }));
}

/**
 * Most providers speak OpenAI's chat format and differ only in base URL, paths and auth;
 * each of them is this class with a few options.
 */
export class OpenAICompatibleAdapter implements ProviderAdapter {
  readonly id: string;
  readonly name: string;
  readonly defaultBaseUrl: string;
  readonly requiresKey: boolean;
  readonly declaration?: ProviderDeclaration;
  readonly requiredExtra: readonly string[];
  readonly embeddings?: EmbeddingSupport;
  readonly transcriptions?: TranscriptionSupport;
  private readonly chatPath: string;
  private readonly modelsPath: string;
  private readonly samplingParams?: readonly string[];

  constructor(options: OpenAICompatibleOptions) {
    this.id = options.id;
    this.name = options.name;
    this.defaultBaseUrl = options.defaultBaseUrl;
    this.requiresKey = options.requiresKey;
    this.declaration = options.declaration;
    this.requiredExtra = requiredExtra(options.declaration);
    this.samplingParams = options.samplingParams ?? options.declaration?.samplingParams;
    this.chatPath = options.chatPath ?? '/chat/completions';
    this.modelsPath = options.modelsPath ?? '/models';
    this.embeddings = options.embeddings;
    this.transcriptions = options.transcriptions;
  }

  chat(req: ChatRequest, ctx: UpstreamContext): Observable<ChatEvent> {
    return observeUpstream(async (signal) => {
      const body = buildOpenAIChatBody(req, ctx.upstreamModel, { samplingParams: this.samplingParams });
      const res = await ctx.http.open(upstreamCall(ctx, { method: 'POST', url: ctx.baseUrl + this.chatPath, body, signal }));
      if (!req.stream) return completionToEvents(await ctx.http.readJson(res));
      return ctx.http.sse(res, ctx.flow).pipe(chatStreamEvents(chunkToEvents, { onMalformed: ctx.onMalformed }));
    }, ctx.signal);
  }

  async embed(req: EmbeddingRequest, ctx: UpstreamContext): Promise<EmbeddingResult> {
    const body = buildOpenAIEmbeddingBody(req, ctx.upstreamModel);
    return parseOpenAIEmbeddings(await ctx.http.json(upstreamCall(ctx, { method: 'POST', url: `${ctx.baseUrl}/embeddings`, body })));
  }

  async transcribe(req: TranscriptionRequest, ctx: UpstreamContext): Promise<TranscriptionResult> {
    const { body, contentType } = buildOpenAITranscriptionBody(req, ctx.upstreamModel);
    const call = upstreamCall(ctx, { method: 'POST', url: `${ctx.baseUrl}/audio/transcriptions`, body, headers: { 'content-type': contentType } });
    return parseOpenAITranscription(await ctx.http.json(call));
  }

  async listModels(ctx: UpstreamContext): Promise<UpstreamModel[]> {
    return parseModelList(await ctx.http.json(upstreamCall(ctx, { method: 'GET', url: ctx.baseUrl + this.modelsPath })));
  }
}
