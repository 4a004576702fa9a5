import { OpenAICompatibleAdapter } from '../openai-compatible/openai-compatible.adapter.ts';
import { parseOpenAIImages } from '../openai-compatible/openai-images.ts';
import { upstreamCall, type ImageRequest, type ImageResult, type UpstreamContext } from '../provider-adapter.ts';
import type { ProviderDeclaration } from '../provider-declaration.ts';
import { buildTogetherImageBody } from './together-mapping.ts';

/** Together AI: OpenAI format; its model list is a bare array, which parseModelList accepts. */
export class TogetherAdapter extends OpenAICompatibleAdapter {
  constructor(declaration: ProviderDeclaration) {
    super({ id: declaration.id, declaration, name: 'Together', defaultBaseUrl: 'https://api.together.xyz/v1', requiresKey: true });
  }

  /** Up to four images per call, as base64 or as URLs the gateway downloads. */
  async image(req: ImageRequest, ctx: UpstreamContext): Promise<ImageResult> {
    const body = buildTogetherImageBody(req, ctx.upstreamModel);
    return parseOpenAIImages(await ctx.http.json(upstreamCall(ctx, { method: 'POST', url: `${ctx.baseUrl}/images/generations`, body })));
  }
}
