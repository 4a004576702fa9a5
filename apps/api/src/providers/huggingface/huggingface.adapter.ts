import { readImageResponse } from '../media-response.ts';
import { OpenAICompatibleAdapter } from '../openai-compatible/openai-compatible.adapter.ts';
import { upstreamCall, type ImageRequest, type ImageResult, type UpstreamContext } from '../provider-adapter.ts';
import type { ProviderDeclaration } from '../provider-declaration.ts';
import { buildHuggingFaceImageBody, huggingFaceImagePath } from './huggingface-mapping.ts';

/** HuggingFace Inference Providers router (never the legacy api-inference host, which answers 410). */
export class HuggingFaceAdapter extends OpenAICompatibleAdapter {
  constructor(declaration: ProviderDeclaration) {
    super({
      id: declaration.id,
      declaration,
      name: 'HuggingFace',
      defaultBaseUrl: 'https://router.huggingface.co',
      requiresKey: true,
      chatPath: '/v1/chat/completions',
      modelsPath: '/v1/models',
    });
  }

  /** hf-inference text-to-image: one image per call, answered as raw bytes. */
  async image(req: ImageRequest, ctx: UpstreamContext): Promise<ImageResult> {
    const res = await ctx.http.open(
      upstreamCall(ctx, {
        method: 'POST',
        url: ctx.baseUrl + huggingFaceImagePath(ctx.upstreamModel),
        headers: { accept: 'image/png, image/*;q=0.9' },
        body: buildHuggingFaceImageBody(req),
      }),
    );
    return { images: [await readImageResponse(ctx, res)] };
  }
}
