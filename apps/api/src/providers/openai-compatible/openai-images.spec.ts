import { readFileSync } from 'node:fs';
import { UpstreamError, type ImageRequest } from '../provider-adapter.ts';
import { buildDeepInfraImageBody } from '../deepinfra/deepinfra-mapping.ts';
import { buildTogetherImageBody } from '../together/together-mapping.ts';
import { parseOpenAIImages } from './openai-images.ts';

const json = (name: string): unknown => JSON.parse(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8'));

const request = (over: Partial<ImageRequest> = {}): ImageRequest => ({ prompt: 'a red fox', n: 1, width: 1024, height: 768, params: {}, ...over });

function invalid(fn: () => unknown): UpstreamError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe('invalid');
    return err as UpstreamError;
  }
  throw new Error('expected an UpstreamError');
}

describe('parseOpenAIImages', () => {
  it('decodes Together base64 images in index order and checks what they are', () => {
    const { images, revisedPrompt } = parseOpenAIImages(json('together-images-b64.json'));
    expect(images).toHaveLength(2);
    expect(images.map((i) => ('mime' in i ? i.mime : i.url))).toEqual(['image/png', 'image/jpeg']);
    const first = images[0]!;
    expect('data' in first && first.data.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(revisedPrompt).toBeUndefined();
  });

  it('keeps Together URLs for the gateway to download', () => {
    expect(parseOpenAIImages(json('together-images-url.json')).images).toEqual([
      { url: 'https://api.together.ai/imgproxy/abc123/format:jpeg/aHR0cHM6Ly9leGFtcGxl' },
    ]);
  });

  it('accepts DeepInfra data-URL base64 and its revised prompt', () => {
    const { images, revisedPrompt } = parseOpenAIImages(json('deepinfra-images.json'));
    expect(images).toHaveLength(1);
    expect('mime' in images[0]! && images[0].mime).toBe('image/png');
    expect(revisedPrompt).toBe('a red fox in the snow, photographic');
  });

  it('treats an error body, an empty list and non-images as invalid answers', () => {
    expect(invalid(() => parseOpenAIImages(json('images-error-in-200.json'))).message).toContain('NSFW content detected');
    expect(invalid(() => parseOpenAIImages({ created: 1, data: [] })).message).toContain('no images');
    expect(invalid(() => parseOpenAIImages({ data: [{ b64_json: Buffer.from('<html>nope</html>').toString('base64') }] })).message).toContain(
      'does not decode to a PNG',
    );
    expect(invalid(() => parseOpenAIImages({ data: [{ b64_json: 'not base64 at all!' }] })).message).toContain('not base64');
    expect(invalid(() => parseOpenAIImages({ data: [{ revised_prompt: 'x' }] })).message).toContain('neither b64_json nor url');
    expect(invalid(() => parseOpenAIImages('<html></html>')).message).toContain('not a JSON object');
  });
});

describe('buildTogetherImageBody', () => {
  it('sends width/height, n (at most 4), seed, steps and the response format', () => {
    expect(buildTogetherImageBody(request({ n: 7, seed: 42, params: { steps: 8, response_format: 'b64_json', negative_prompt: 'blur' } }), 'flux-up')).toEqual({
      model: 'flux-up',
      prompt: 'a red fox',
      width: 1024,
      height: 768,
      n: 4,
      seed: 42,
      steps: 8,
      negative_prompt: 'blur',
      response_format: 'b64_json',
    });
  });

  it('asks for URLs when the client wants URLs and leaves out what the client did not give', () => {
    expect(buildTogetherImageBody(request({ params: { response_format: 'url', quality: 'hd' } }), 'm')).toEqual({
      model: 'm',
      prompt: 'a red fox',
      width: 1024,
      height: 768,
      n: 1,
      response_format: 'url',
    });
  });
});

describe('buildDeepInfraImageBody', () => {
  it('uses OpenAI size and passes quality, style and user', () => {
    expect(buildDeepInfraImageBody(request({ n: 9, seed: 3, params: { quality: 'hd', style: 'vivid', user: 'u1', steps: 4 } }), 'sdxl')).toEqual({
      model: 'sdxl',
      prompt: 'a red fox',
      size: '1024x768',
      n: 4,
      quality: 'hd',
      style: 'vivid',
      user: 'u1',
    });
  });
});
