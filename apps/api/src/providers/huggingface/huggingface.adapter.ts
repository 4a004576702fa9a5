import { readImageResponse } from '../media-response.ts';
import { OpenAICompatibleAdapter } from '../openai-compatible/openai-compatible.adapter.ts';
import {
  upstreamCall,
  type EmbeddingRequest,
  type EmbeddingResult,
  type ImageRequest,
  type ImageResult,
  type TranscriptionRequest,
  type TranscriptionResult,
  type UpstreamContext,
} from '../provider-adapter.ts';
import type { ProviderDeclaration } from '../provider-declaration.ts';
import {
  buildHuggingFaceEmbeddingBody,
  buildHuggingFaceImageBody,
  huggingFaceFeaturePath,
  huggingFaceImagePath,
  parseHuggingFaceEmbeddings,
  parseHuggingFaceTranscription,
} from './huggingface-mapping.ts';

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
      // hf-inference documents no batch limit; 32 inputs keeps one call short on its shared CPUs.
      embeddings: { batchLimit: 32, tokens: false, dimensions: false },
      // The raw-bytes form answers `{text}` only (timestamps need the JSON form's parameters).
      transcriptions: { segments: false },
    });
  }

  /** hf-inference feature extraction: a bare array of vectors. */
  override async embed(req: EmbeddingRequest, ctx: UpstreamContext): Promise<EmbeddingResult> {
    const url = ctx.baseUrl + huggingFaceFeaturePath(ctx.upstreamModel);
    return parseHuggingFaceEmbeddings(
      await ctx.http.json(upstreamCall(ctx, { method: 'POST', url, body: buildHuggingFaceEmbeddingBody(req) })),
      req.input.length,
    );
  }

  /** hf-inference speech recognition: the audio file itself as the body, `{text}` back. */
  override async transcribe(req: TranscriptionRequest, ctx: UpstreamContext): Promise<TranscriptionResult> {
    const url = ctx.baseUrl + huggingFaceImagePath(ctx.upstreamModel);
    return parseHuggingFaceTranscription(
      await ctx.http.json(upstreamCall(ctx, { method: 'POST', url, body: req.audio, headers: { 'content-type': req.mime } })),
    );
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
