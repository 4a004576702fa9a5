import type { Usage } from '#contracts';
import type { Observable } from 'rxjs';
import { observeUpstream } from '../observe-upstream.ts';
import { chatStreamEvents } from '../sse-payloads.ts';
import {
  UpstreamError,
  upstreamCall,
  type ChatEvent,
  type ChatFeature,
  type ChatRequest,
  type EmbeddingRequest,
  type EmbeddingResult,
  type EmbeddingSupport,
  type ImageRequest,
  type TranscriptionRequest,
  type TranscriptionResult,
  type TranscriptionSupport,
  type ImageResult,
  type ProviderAdapter,
  type UpstreamContext,
  type UpstreamModel,
} from '../provider-adapter.ts';
import { requiredExtra, type ProviderDeclaration } from '../provider-declaration.ts';
import {
  buildCloudflareEmbeddingBody,
  buildCloudflareTranscriptionBody,
  parseCloudflareEmbeddings,
  parseCloudflareTranscription,
} from './cloudflare-embedding-mapping.ts';
import { buildCloudflareImageBody, parseCloudflareImage } from './cloudflare-image-mapping.ts';
import { estimateNeurons } from './cloudflare-neurons.ts';
import {
  buildCloudflareChatBody,
  cloudflareChunkToEvents,
  cloudflareHonours,
  cloudflareModelPath,
  cloudflareNeedsWholeAnswer,
  cloudflareResultToEvents,
} from './cloudflare-mapping.ts';

const CLOUDFLARE_DONE: readonly ChatEvent[] = [{ type: 'finish', reason: 'stop' }];

/** Workers AI REST API in its native envelope (`/accounts/{id}/ai/run/{model}`). */
export class CloudflareAdapter implements ProviderAdapter {
  readonly id: string;
  readonly name = 'CloudflareAI';
  readonly defaultBaseUrl = 'https://api.cloudflare.com/client/v4';
  readonly requiresKey = true;
  /** The account id (declared in cloudflare.provider.ts): every URL names it. */
  readonly requiredExtra: readonly string[];
  /** The native request mapping sends text only (image parts are dropped), so routing keeps images away. */
  readonly acceptsImageInput = false;
  /** The bge models' input schema caps `text` at 100 items per call. */
  readonly embeddings: EmbeddingSupport = { batchLimit: 100, tokens: false, dimensions: false };
  /** Whisper answers timed segments (and its own vtt). */
  readonly transcriptions: TranscriptionSupport = { segments: true };

  /** Workers AI's free tier is 10,000 neurons a day, and answers do not report neurons: estimated from usage. */
  neurons(upstreamModel: string, usage: Pick<Usage, 'prompt_tokens' | 'completion_tokens'>): number | undefined {
    return estimateNeurons(upstreamModel, usage);
  }

  /** Tools and JSON mode on the models documented for them; see cloudflare-mapping.ts. */
  honours(feature: ChatFeature, upstreamModel: string): boolean {
    return cloudflareHonours(feature, upstreamModel);
  }

  constructor(readonly declaration: ProviderDeclaration) {
    this.id = declaration.id;
    this.requiredExtra = requiredExtra(declaration);
  }

  private accountUrl(ctx: UpstreamContext): string {
    return `${ctx.baseUrl}/accounts/${encodeURIComponent(ctx.extra.accountId ?? '')}`;
  }

  chat(req: ChatRequest, ctx: UpstreamContext): Observable<ChatEvent> {
    return observeUpstream(async (signal) => {
      const url = `${this.accountUrl(ctx)}/ai/run/${cloudflareModelPath(ctx.upstreamModel)}`;
      const res = await ctx.http.open(upstreamCall(ctx, { method: 'POST', url, body: buildCloudflareChatBody(req, this.declaration.samplingParams), signal }));
      // A stream with tools or JSON mode was asked for whole (see cloudflareNeedsWholeAnswer): its
      // events are the stream, replayed at once (one delta, the finish, the usage).
      if (!req.stream || cloudflareNeedsWholeAnswer(req)) return cloudflareResultToEvents(await ctx.http.readJson(res));
      // The native stream has no finish reason: [DONE] means the model stopped, while a body
      // that just ends was cut short.
      return ctx.http.sse(res, ctx.flow).pipe(chatStreamEvents(cloudflareChunkToEvents, { atDone: CLOUDFLARE_DONE, onMalformed: ctx.onMalformed }));
    }, ctx.signal);
  }

  /** Text-to-image models (`@cf/black-forest-labs/flux-1-schnell`) on the same run path: one base64 image per call. */
  async image(req: ImageRequest, ctx: UpstreamContext): Promise<ImageResult> {
    const url = `${this.accountUrl(ctx)}/ai/run/${cloudflareModelPath(ctx.upstreamModel)}`;
    const json = await ctx.http.json(upstreamCall(ctx, { method: 'POST', url, body: buildCloudflareImageBody(req) }));
    return { images: [parseCloudflareImage(json)] };
  }

  /** Text embeddings (`@cf/baai/bge-*`) on the same run path. */
  async embed(req: EmbeddingRequest, ctx: UpstreamContext): Promise<EmbeddingResult> {
    const url = `${this.accountUrl(ctx)}/ai/run/${cloudflareModelPath(ctx.upstreamModel)}`;
    return parseCloudflareEmbeddings(await ctx.http.json(upstreamCall(ctx, { method: 'POST', url, body: buildCloudflareEmbeddingBody(req) })));
  }

  /** Whisper (`@cf/openai/whisper-large-v3-turbo`) on the same run path. */
  async transcribe(req: TranscriptionRequest, ctx: UpstreamContext): Promise<TranscriptionResult> {
    const url = `${this.accountUrl(ctx)}/ai/run/${cloudflareModelPath(ctx.upstreamModel)}`;
    return parseCloudflareTranscription(await ctx.http.json(upstreamCall(ctx, { method: 'POST', url, body: buildCloudflareTranscriptionBody(req) })));
  }

  async listModels(ctx: UpstreamContext): Promise<UpstreamModel[]> {
    const url = `${this.accountUrl(ctx)}/ai/models/search?per_page=1000`;
    const json = (await ctx.http.json(upstreamCall(ctx, { method: 'GET', url }))) as { result?: Array<{ name?: unknown; task?: { name?: unknown } }> };
    if (!Array.isArray(json?.result)) throw new UpstreamError('invalid', 'model search answer has no result list');
    return json.result
      .filter((m): m is { name: string; task?: { name?: unknown } } => typeof m?.name === 'string')
      .map((m) => ({ id: m.name, type: typeof m.task?.name === 'string' ? m.task.name : undefined }));
  }
}
