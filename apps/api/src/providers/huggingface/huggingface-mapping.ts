import { intParam, stringParam } from '../openai-compatible/openai-images.ts';
import { asVector, rejectEmbeddedError } from '../embedding-vectors.ts';
import { UpstreamError, type EmbeddingRequest, type EmbeddingResult, type ImageRequest, type TranscriptionResult } from '../provider-adapter.ts';

/** `/hf-inference/models/{org}/{name}`, each segment escaped but the slash kept. */
export function huggingFaceImagePath(upstreamModel: string): string {
  const segments = upstreamModel.split('/');
  // Dot segments would be resolved by URL parsers and send the token to another route.
  if (segments.length > 2 || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new UpstreamError('invalid', `not a HuggingFace model id: ${JSON.stringify(upstreamModel)}`);
  }
  return `/hf-inference/models/${segments.map(encodeURIComponent).join('/')}`;
}

/** `{inputs, parameters:{width, height, seed, num_inference_steps}}`; the answer is the image itself. */
export function buildHuggingFaceImageBody(req: ImageRequest): Record<string, unknown> {
  const parameters: Record<string, unknown> = { width: req.width, height: req.height };
  if (req.seed !== undefined) parameters.seed = req.seed;
  const steps = intParam(req, 'steps');
  if (steps !== undefined) parameters.num_inference_steps = steps;
  const negative = stringParam(req, 'negative_prompt');
  if (negative) parameters.negative_prompt = negative;
  return { inputs: req.prompt, parameters };
}

/** hf-inference feature extraction: `/hf-inference/models/{org}/{name}/pipeline/feature-extraction`. */
export function huggingFaceFeaturePath(upstreamModel: string): string {
  return `${huggingFaceImagePath(upstreamModel)}/pipeline/feature-extraction`;
}

/** Always a list, so that the answer is always one vector per input. */
export function buildHuggingFaceEmbeddingBody(req: EmbeddingRequest): Record<string, unknown> {
  return { inputs: req.input, normalize: true };
}

/**
 * A bare JSON array of vectors, one per input; for a single input some models answer the flat
 * vector itself (PROVIDERS.md: accept both). Token-level output (one vector per token) is not
 * a sentence embedding and fails the attempt.
 */
export function parseHuggingFaceEmbeddings(json: unknown, count: number): EmbeddingResult {
  rejectEmbeddedError(json, 'feature-extraction');
  if (!Array.isArray(json) || json.length === 0) throw new UpstreamError('invalid', 'feature-extraction answer is not a list of vectors');
  if (count === 1 && typeof json[0] === 'number') return { vectors: [asVector(json, 'the vector')] };
  return { vectors: json.map((v, i) => asVector(v, `vector ${i}`)) };
}

/** `{text}` (and `chunks` when timestamps were asked, which the raw-bytes form does not). */
export function parseHuggingFaceTranscription(json: unknown): TranscriptionResult {
  rejectEmbeddedError(json, 'speech-recognition');
  if (typeof json !== 'object' || json === null || typeof (json as { text?: unknown }).text !== 'string') {
    throw new UpstreamError('invalid', 'speech-recognition answer has no text');
  }
  return { text: (json as { text: string }).text };
}
