import { readImageResponse } from '../media-response.ts';
import { OpenAICompatibleAdapter } from '../openai-compatible/openai-compatible.adapter.ts';
import type { ImageRequest, ImageResult, UpstreamContext } from '../provider-adapter.ts';
import { buildHuggingFaceImageBody, huggingFaceImagePath } from './huggingface-mapping.ts';

/** HuggingFace Inference Providers router (never the legacy api-inference host, which answers 410). */
export class HuggingFaceAdapter extends OpenAICompatibleAdapter {
  constructor() {
    super({
      id: 'huggingface',
      name: 'HuggingFace',
      defaultBaseUrl: 'https://router.huggingface.co',
      requiresKey: true,
      chatPath: '/v1/chat/completions',
      modelsPath: '/v1/models',
    });
  }

  /** hf-inference text-to-image: one image per call, answered as raw bytes. */
  async image(req: ImageRequest, ctx: UpstreamContext): Promise<ImageResult> {
    const res = await ctx.http.open({
      method: 'POST',
      url: ctx.baseUrl + huggingFaceImagePath(ctx.upstreamModel),
      headers: { ...this.headers(ctx), accept: 'image/png, image/*;q=0.9' },
      body: buildHuggingFaceImageBody(req),
      signal: ctx.signal,
      proxy: ctx.proxy,
    });
    return { images: [await readImageResponse(ctx, res)] };
  }
}

export const huggingFaceAdapter = () => new HuggingFaceAdapter();
