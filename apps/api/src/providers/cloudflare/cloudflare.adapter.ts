import type { Observable } from 'rxjs';
import { observeUpstream } from '../observe-upstream.ts';
import { chatStreamEvents } from '../sse-payloads.ts';
import {
  UpstreamError,
  type ChatEvent,
  type ChatRequest,
  type ImageRequest,
  type ImageResult,
  type ProviderAdapter,
  type UpstreamContext,
  type UpstreamModel,
} from '../provider-adapter.ts';
import { buildCloudflareImageBody, parseCloudflareImage } from './cloudflare-image-mapping.ts';
import { buildCloudflareChatBody, cloudflareChunkToEvents, cloudflareModelPath, cloudflareResultToEvents } from './cloudflare-mapping.ts';

const CLOUDFLARE_DONE: readonly ChatEvent[] = [{ type: 'finish', reason: 'stop' }];

/** Workers AI REST API in its native envelope (`/accounts/{id}/ai/run/{model}`). */
export class CloudflareAdapter implements ProviderAdapter {
  readonly id = 'cloudflare';
  readonly name = 'CloudflareAI';
  readonly defaultBaseUrl = 'https://api.cloudflare.com/client/v4';
  readonly requiresKey = true;
  readonly requiredExtra = ['accountId'] as const;
  /** The native request mapping sends text only (image parts are dropped), so routing keeps images away. */
  readonly acceptsImageInput = false;

  private accountUrl(ctx: UpstreamContext): string {
    return `${ctx.baseUrl}/accounts/${encodeURIComponent(ctx.extra.accountId ?? '')}`;
  }

  private headers(ctx: UpstreamContext): Record<string, string> {
    return ctx.apiKey ? { authorization: `Bearer ${ctx.apiKey}` } : {};
  }

  chat(req: ChatRequest, ctx: UpstreamContext): Observable<ChatEvent> {
    return observeUpstream(async (signal) => {
      const res = await ctx.http.open({
        method: 'POST',
        url: `${this.accountUrl(ctx)}/ai/run/${cloudflareModelPath(ctx.upstreamModel)}`,
        headers: this.headers(ctx),
        body: buildCloudflareChatBody(req),
        signal,
        proxy: ctx.proxy,
      });
      if (!req.stream) return cloudflareResultToEvents(await ctx.http.readJson(res));
      // The native stream has no finish reason: [DONE] means the model stopped, while a body
      // that just ends was cut short.
      return ctx.http.sse(res, ctx.flow).pipe(chatStreamEvents(cloudflareChunkToEvents, CLOUDFLARE_DONE));
    }, ctx.signal);
  }

  /** Text-to-image models (`@cf/black-forest-labs/flux-1-schnell`) on the same run path: one base64 image per call. */
  async image(req: ImageRequest, ctx: UpstreamContext): Promise<ImageResult> {
    const json = await ctx.http.json({
      method: 'POST',
      url: `${this.accountUrl(ctx)}/ai/run/${cloudflareModelPath(ctx.upstreamModel)}`,
      headers: this.headers(ctx),
      body: buildCloudflareImageBody(req),
      signal: ctx.signal,
      proxy: ctx.proxy,
    });
    return { images: [parseCloudflareImage(json)] };
  }

  async listModels(ctx: UpstreamContext): Promise<UpstreamModel[]> {
    const json = (await ctx.http.json({
      method: 'GET',
      url: `${this.accountUrl(ctx)}/ai/models/search?per_page=1000`,
      headers: this.headers(ctx),
      signal: ctx.signal,
      proxy: ctx.proxy,
    })) as { result?: Array<{ name?: unknown; task?: { name?: unknown } }> };
    if (!Array.isArray(json?.result)) throw new UpstreamError('invalid', 'model search answer has no result list');
    return json.result
      .filter((m): m is { name: string; task?: { name?: unknown } } => typeof m?.name === 'string')
      .map((m) => ({ id: m.name, type: typeof m.task?.name === 'string' ? m.task.name : undefined }));
  }
}
