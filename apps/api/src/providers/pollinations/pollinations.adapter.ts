import { readAudioResponse, readImageResponse } from '../media-response.ts';
import { OpenAICompatibleAdapter } from '../openai-compatible/openai-compatible.adapter.ts';
import { upstreamCall, type AudioResult, type ImageRequest, type ImageResult, type SpeechRequest, type UpstreamContext } from '../provider-adapter.ts';
import type { ProviderDeclaration } from '../provider-declaration.ts';
import { SPEECH_CONTENT_TYPES } from '../../media/media-bytes.ts';
import { buildPollinationsSpeechBody, pollinationsImageUrl } from './pollinations-mapping.ts';

/** gen.pollinations.ai: OpenAI format for chat and speech, a GET per image; a key is optional (anonymous tier). */
export class PollinationsAdapter extends OpenAICompatibleAdapter {
  constructor(declaration: ProviderDeclaration) {
    super({
      id: declaration.id,
      declaration,
      name: 'PollinationsAI',
      defaultBaseUrl: 'https://gen.pollinations.ai',
      requiresKey: false,
      chatPath: '/v1/chat/completions',
      modelsPath: '/v1/models',
    });
  }

  /** One image per call (`n` is the service's business). */
  async image(req: ImageRequest, ctx: UpstreamContext): Promise<ImageResult> {
    const url = pollinationsImageUrl(ctx.baseUrl, req, ctx.upstreamModel);
    const res = await ctx.http.open(upstreamCall(ctx, { method: 'GET', url, headers: { accept: 'image/*' } }));
    return { images: [await readImageResponse(ctx, res)] };
  }

  async speech(req: SpeechRequest, ctx: UpstreamContext): Promise<AudioResult> {
    const res = await ctx.http.open(
      upstreamCall(ctx, {
        method: 'POST',
        url: `${ctx.baseUrl}/v1/audio/speech`,
        headers: { accept: `${SPEECH_CONTENT_TYPES[req.format]}, audio/*;q=0.9` },
        body: buildPollinationsSpeechBody(req, ctx.upstreamModel),
      }),
    );
    return readAudioResponse(ctx, res, req.format);
  }
}
