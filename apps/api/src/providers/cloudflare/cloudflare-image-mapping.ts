import { decodeImage, type ImageBytes } from '../media-response.ts';
import { errorMessageFromJson } from '../upstream-errors.ts';
import { intParam } from '../openai-compatible/openai-images.ts';
import { UpstreamError, type ImageRequest } from '../provider-adapter.ts';

/** flux-1-schnell takes 1–8 diffusion steps; 4 is its default. */
const MAX_STEPS = 8;
const DEFAULT_STEPS = 4;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{prompt, steps, seed?}`: Workers AI's text-to-image input (it picks the size itself). */
export function buildCloudflareImageBody(req: ImageRequest): Record<string, unknown> {
  const steps = Math.min(MAX_STEPS, Math.max(1, intParam(req, 'steps') ?? DEFAULT_STEPS));
  const body: Record<string, unknown> = { prompt: req.prompt, steps };
  // Workers AI wants a non-negative seed.
  if (req.seed !== undefined && req.seed >= 0) body.seed = req.seed;
  return body;
}

/** `{"result":{"image":"<base64>"},"success":true}` → the decoded image. */
export function parseCloudflareImage(json: unknown): ImageBytes {
  if (!isRecord(json)) throw new UpstreamError('invalid', 'image answer is not a JSON object');
  if (json.success === false) throw new UpstreamError('invalid', `Cloudflare reported failure: ${errorMessageFromJson(json) ?? 'no message'}`);
  if (!isRecord(json.result)) throw new UpstreamError('invalid', 'image answer has no result object');
  return decodeImage(json.result.image, 'result.image');
}
