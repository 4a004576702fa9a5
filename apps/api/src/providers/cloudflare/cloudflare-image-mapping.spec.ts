import { readFileSync } from 'node:fs';
import { UpstreamError, type ImageRequest } from '../provider-adapter.ts';
import { buildCloudflareImageBody, parseCloudflareImage } from './cloudflare-image-mapping.ts';

const json = (name: string): unknown => JSON.parse(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8'));
const request = (over: Partial<ImageRequest> = {}): ImageRequest => ({ prompt: 'a bridge', n: 1, width: 1024, height: 1024, params: {}, ...over });

describe('buildCloudflareImageBody', () => {
  it('sends prompt and steps (default 4, clamped to 1–8) and a non-negative seed', () => {
    expect(buildCloudflareImageBody(request())).toEqual({ prompt: 'a bridge', steps: 4 });
    expect(buildCloudflareImageBody(request({ seed: 5, params: { steps: 50 } }))).toEqual({ prompt: 'a bridge', steps: 8, seed: 5 });
    expect(buildCloudflareImageBody(request({ seed: -1, params: { steps: 0 } }))).toEqual({ prompt: 'a bridge', steps: 1 });
  });
});

describe('parseCloudflareImage', () => {
  it('decodes result.image and says what it is', () => {
    const image = parseCloudflareImage(json('cloudflare-image.json'));
    expect(image.mime).toBe('image/jpeg');
    expect(image.data.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
  });

  it('turns failures and empty or non-image results into invalid answers', () => {
    const cases: Array<[unknown, string]> = [
      [json('cloudflare-image-failure.json'), 'Capacity temporarily exceeded'],
      [{ result: { image: '' }, success: true }, 'result.image is empty'],
      [{ result: {}, success: true }, 'result.image is empty'],
      [{ result: { image: Buffer.from('{"oops":1}').toString('base64') }, success: true }, 'does not decode'],
      [{ success: true }, 'no result object'],
    ];
    for (const [body, message] of cases) {
      let caught: unknown;
      try {
        parseCloudflareImage(body);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(UpstreamError);
      expect((caught as UpstreamError).kind).toBe('invalid');
      expect((caught as UpstreamError).message).toContain(message);
    }
  });
});
