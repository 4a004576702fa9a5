import { OpenAICompatibleAdapter } from '../openai-compatible/openai-compatible.adapter.ts';
import { parseOpenAIImages } from '../openai-compatible/openai-images.ts';
import type { ImageRequest, ImageResult, UpstreamContext } from '../provider-adapter.ts';
import { buildDeepInfraImageBody } from './deepinfra-mapping.ts';

/** DeepInfra's OpenAI endpoint; needs a key (the keyless web route wants a captcha now). */
export class DeepInfraAdapter extends OpenAICompatibleAdapter {
  constructor() {
    super({ id: 'deepinfra', name: 'DeepInfra', defaultBaseUrl: 'https://api.deepinfra.com/v1/openai', requiresKey: true });
  }

  async image(req: ImageRequest, ctx: UpstreamContext): Promise<ImageResult> {
    const json = await ctx.http.json({
      method: 'POST',
      url: `${ctx.baseUrl}/images/generations`,
      headers: this.headers(ctx),
      body: buildDeepInfraImageBody(req, ctx.upstreamModel),
      signal: ctx.signal,
      proxy: ctx.proxy,
    });
    return parseOpenAIImages(json);
  }
}

export const deepInfraAdapter = () => new DeepInfraAdapter();
