import { UpstreamError, type ImageRequest } from '../provider-adapter.ts';
import { buildHuggingFaceImageBody, huggingFaceImagePath } from './huggingface-mapping.ts';

describe('huggingFaceImagePath', () => {
  it('keeps org/name and escapes each part', () => {
    expect(huggingFaceImagePath('black-forest-labs/FLUX.1-schnell')).toBe('/hf-inference/models/black-forest-labs/FLUX.1-schnell');
    expect(huggingFaceImagePath('org/name with space')).toBe('/hf-inference/models/org/name%20with%20space');
  });

  it('refuses ids that would leave the models route', () => {
    for (const bad of ['../v1/chat', 'org/..', 'a/b/c', '']) expect(() => huggingFaceImagePath(bad)).toThrow(UpstreamError);
  });
});

describe('buildHuggingFaceImageBody', () => {
  it('sends the prompt as inputs and size, seed and steps as parameters', () => {
    const req: ImageRequest = { prompt: 'a lighthouse', n: 2, width: 768, height: 512, seed: 11, params: { steps: 20, negative_prompt: 'fog' } };
    expect(buildHuggingFaceImageBody(req)).toEqual({
      inputs: 'a lighthouse',
      parameters: { width: 768, height: 512, seed: 11, num_inference_steps: 20, negative_prompt: 'fog' },
    });
    expect(buildHuggingFaceImageBody({ ...req, seed: undefined, params: {} })).toEqual({ inputs: 'a lighthouse', parameters: { width: 768, height: 512 } });
  });
});
