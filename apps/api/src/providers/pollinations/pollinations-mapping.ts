import { stringParam } from '../openai-compatible/openai-images.ts';
import type { ImageRequest, SpeechRequest } from '../provider-adapter.ts';

/** `GET /image/{prompt}?model=&width=&height=&seed=&nologo=true`: one image per call, as raw bytes. */
export function pollinationsImageUrl(baseUrl: string, req: ImageRequest, upstreamModel: string): string {
  const query = new URLSearchParams({ model: upstreamModel, width: String(req.width), height: String(req.height) });
  if (req.seed !== undefined) query.set('seed', String(req.seed));
  const quality = stringParam(req, 'quality');
  // gptimage takes low|medium|high|hd; OpenAI's "standard"/"auto" mean the default, so they are not sent.
  if (quality && quality !== 'auto' && quality !== 'standard') query.set('quality', quality);
  const negative = stringParam(req, 'negative_prompt');
  if (negative) query.set('negative_prompt', negative);
  query.set('nologo', 'true');
  return `${baseUrl}/image/${promptSegment(req.prompt)}?${query.toString()}`;
}

/**
 * The prompt as one path segment. A prompt of exactly `.` or `..` would be a dot segment, which URL
 * parsing removes (even percent-encoded), turning the request into one for `/image` or the base URL
 * itself; a trailing encoded space keeps it a segment and means nothing to the image model.
 */
function promptSegment(prompt: string): string {
  const encoded = encodeURIComponent(prompt);
  return encoded === '.' || encoded === '..' ? `${encoded}%20` : encoded;
}

/** `POST /v1/audio/speech`, OpenAI's body. */
export function buildPollinationsSpeechBody(req: SpeechRequest, upstreamModel: string): Record<string, unknown> {
  const body: Record<string, unknown> = { model: upstreamModel, input: req.input, voice: req.voice, response_format: req.format };
  if (req.speed !== undefined) body.speed = req.speed;
  if (req.instructions !== undefined) body.instructions = req.instructions;
  return body;
}
