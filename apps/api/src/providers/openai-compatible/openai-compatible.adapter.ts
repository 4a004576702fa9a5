import type { Observable } from 'rxjs';
import { observeUpstream } from '../observe-upstream.ts';
import { chatStreamEvents } from '../sse-payloads.ts';
import { UpstreamError, type ChatEvent, type ChatRequest, type ProviderAdapter, type UpstreamContext, type UpstreamModel } from '../provider-adapter.ts';
import { buildOpenAIChatBody, chunkToEvents, completionToEvents } from './openai-mapping.ts';

export interface OpenAICompatibleOptions {
  id: string;
  name: string;
  defaultBaseUrl: string;
  requiresKey: boolean;
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
  private readonly chatPath: string;
  private readonly modelsPath: string;

  constructor(options: OpenAICompatibleOptions) {
    this.id = options.id;
    this.name = options.name;
    this.defaultBaseUrl = options.defaultBaseUrl;
    this.requiresKey = options.requiresKey;
    this.chatPath = options.chatPath ?? '/chat/completions';
    this.modelsPath = options.modelsPath ?? '/models';
  }

  protected headers(ctx: UpstreamContext): Record<string, string> {
    return ctx.apiKey ? { authorization: `Bearer ${ctx.apiKey}` } : {};
  }

  chat(req: ChatRequest, ctx: UpstreamContext): Observable<ChatEvent> {
    return observeUpstream(async (signal) => {
      const res = await ctx.http.open({
        method: 'POST',
        url: ctx.baseUrl + this.chatPath,
        headers: this.headers(ctx),
        body: buildOpenAIChatBody(req, ctx.upstreamModel),
        signal,
        proxy: ctx.proxy,
      });
      if (!req.stream) return completionToEvents(await ctx.http.readJson(res));
      return ctx.http.sse(res, ctx.flow).pipe(chatStreamEvents(chunkToEvents));
    }, ctx.signal);
  }

  async listModels(ctx: UpstreamContext): Promise<UpstreamModel[]> {
    const json = await ctx.http.json({ method: 'GET', url: ctx.baseUrl + this.modelsPath, headers: this.headers(ctx), signal: ctx.signal, proxy: ctx.proxy });
    return parseModelList(json);
  }
}
