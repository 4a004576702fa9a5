import type { Observable } from 'rxjs';
import { observeUpstream } from '../observe-upstream.ts';
import { chatStreamEvents } from '../sse-payloads.ts';
import {
  UpstreamError,
  upstreamCall,
  type ChatEvent,
  type ChatRequest,
  type ProviderAdapter,
  type UpstreamContext,
  type UpstreamModel,
} from '../provider-adapter.ts';
import { requiredExtra, type ProviderDeclaration } from '../provider-declaration.ts';
import { buildOpenAIChatBody, chunkToEvents, completionToEvents } from './openai-mapping.ts';

export interface OpenAICompatibleOptions {
  id: string;
  name: string;
  defaultBaseUrl: string;
  requiresKey: boolean;
  /** A built-in provider's declaration (its id is the adapter's). */
  declaration?: ProviderDeclaration;
  /** Relative to the base URL. */
  chatPath?: string;
  modelsPath?: string;
}

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
  private readonly chatPath: string;
  private readonly modelsPath: string;

  constructor(options: OpenAICompatibleOptions) {
    this.id = options.id;
    this.name = options.name;
    this.defaultBaseUrl = options.defaultBaseUrl;
    this.requiresKey = options.requiresKey;
    this.declaration = options.declaration;
    this.requiredExtra = requiredExtra(options.declaration);
    this.chatPath = options.chatPath ?? '/chat/completions';
    this.modelsPath = options.modelsPath ?? '/models';
  }

  chat(req: ChatRequest, ctx: UpstreamContext): Observable<ChatEvent> {
    return observeUpstream(async (signal) => {
      const body = buildOpenAIChatBody(req, ctx.upstreamModel);
      const res = await ctx.http.open(upstreamCall(ctx, { method: 'POST', url: ctx.baseUrl + this.chatPath, body, signal }));
      if (!req.stream) return completionToEvents(await ctx.http.readJson(res));
      return ctx.http.sse(res, ctx.flow).pipe(chatStreamEvents(chunkToEvents, { onMalformed: ctx.onMalformed }));
    }, ctx.signal);
  }

  async listModels(ctx: UpstreamContext): Promise<UpstreamModel[]> {
    return parseModelList(await ctx.http.json(upstreamCall(ctx, { method: 'GET', url: ctx.baseUrl + this.modelsPath })));
  }
}
