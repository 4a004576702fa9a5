import { stringParam } from '../openai-compatible/openai-images.ts';
import type { ImageRequest } from '../provider-adapter.ts';

/** DeepInfra makes at most this many images per call. */
export const DEEPINFRA_MAX_IMAGES = 4;

/** `POST /images/generations`, OpenAI's shape (`size` as "WxH"); quality/style/user pass through. */
export function buildDeepInfraImageBody(req: ImageRequest, upstreamModel: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: upstreamModel,
    prompt: req.prompt,
    size: `${req.width}x${req.height}`,
    n: Math.min(req.n, DEEPINFRA_MAX_IMAGES),
  };
  for (const name of ['quality', 'style', 'user'] as const) {
    const value = stringParam(req, name);
    if (value) body[name] = value;
  }
  return body;
}
