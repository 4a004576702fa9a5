import { intParam, stringParam } from '../openai-compatible/openai-images.ts';
import { UpstreamError, type ImageRequest } from '../provider-adapter.ts';

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
