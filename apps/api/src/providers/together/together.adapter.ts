import { OpenAICompatibleAdapter } from '../openai-compatible/openai-compatible.adapter.ts';
import { parseOpenAIImages } from '../openai-compatible/openai-images.ts';
import type { ImageRequest, ImageResult, UpstreamContext } from '../provider-adapter.ts';
import { buildTogetherImageBody } from './together-mapping.ts';

/** Together AI: OpenAI format; its model list is a bare array, which parseModelList accepts. */
export class TogetherAdapter extends OpenAICompatibleAdapter {
  constructor() {
    super({ id: 'together', name: 'Together', defaultBaseUrl: 'https://api.together.xyz/v1', requiresKey: true });
  }

  /** Up to four images per call, as base64 or as URLs the gateway downloads. */
  async image(req: ImageRequest, ctx: UpstreamContext): Promise<ImageResult> {
    const json = await ctx.http.json({
      method: 'POST',
      url: `${ctx.baseUrl}/images/generations`,
      headers: this.headers(ctx),
      body: buildTogetherImageBody(req, ctx.upstreamModel),
      signal: ctx.signal,
      proxy: ctx.proxy,
    });
    return parseOpenAIImages(json);
  }
}

export const togetherAdapter = () => new TogetherAdapter();
