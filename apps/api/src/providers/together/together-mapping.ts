import { intParam, stringParam } from '../openai-compatible/openai-images.ts';
import type { ImageRequest } from '../provider-adapter.ts';

/** Together makes at most this many images per call; the gateway calls again for the rest. */
export const TOGETHER_MAX_IMAGES = 4;

/** `POST /images/generations` in Together's shape: width/height rather than size, steps, seed. */
export function buildTogetherImageBody(req: ImageRequest, upstreamModel: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: upstreamModel,
    prompt: req.prompt,
    width: req.width,
    height: req.height,
    n: Math.min(req.n, TOGETHER_MAX_IMAGES),
    // A URL answer is fetched by the gateway (it is re-hosted either way); base64 saves that trip
    // only for b64_json clients, so the client's choice is passed on.
    response_format: req.params.response_format === 'b64_json' ? 'b64_json' : 'url',
  };
  if (req.seed !== undefined) body.seed = req.seed;
  const steps = intParam(req, 'steps');
  if (steps !== undefined) body.steps = steps;
  const negative = stringParam(req, 'negative_prompt');
  if (negative) body.negative_prompt = negative;
  return body;
}
