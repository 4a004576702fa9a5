import { OpenAICompatibleAdapter } from '../openai-compatible/openai-compatible.adapter.ts';
import { parseOpenAIImages } from '../openai-compatible/openai-images.ts';
import { upstreamCall, type ImageRequest, type ImageResult, type UpstreamContext } from '../provider-adapter.ts';
import type { ProviderDeclaration } from '../provider-declaration.ts';
import { buildDeepInfraImageBody } from './deepinfra-mapping.ts';

/** DeepInfra's OpenAI endpoint; needs a key (the keyless web route wants a captcha now). */
export class DeepInfraAdapter extends OpenAICompatibleAdapter {
  constructor(declaration: ProviderDeclaration) {
    super({
      id: declaration.id,
      declaration,
      name: 'DeepInfra',
      defaultBaseUrl: 'https://api.deepinfra.com/v1/openai',
      requiresKey: true,
      // The embeddings docs state no batch limit; 1024 inputs keeps one call well inside the body caps.
      embeddings: { batchLimit: 1024, tokens: false, dimensions: true },
      transcriptions: { segments: true },
    });
  }

  async image(req: ImageRequest, ctx: UpstreamContext): Promise<ImageResult> {
    const body = buildDeepInfraImageBody(req, ctx.upstreamModel);
    return parseOpenAIImages(await ctx.http.json(upstreamCall(ctx, { method: 'POST', url: `${ctx.baseUrl}/images/generations`, body })));
  }
}
