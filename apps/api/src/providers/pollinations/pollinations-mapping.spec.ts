import type { ImageRequest, SpeechRequest } from '../provider-adapter.ts';
import { buildPollinationsSpeechBody, pollinationsImageUrl } from './pollinations-mapping.ts';

const request = (over: Partial<ImageRequest> = {}): ImageRequest => ({ prompt: 'a cat / a "dog"?', n: 3, width: 512, height: 256, params: {}, ...over });

describe('pollinationsImageUrl', () => {
  it('puts the encoded prompt in the path and size, model, seed and nologo in the query', () => {
    const url = new URL(pollinationsImageUrl('https://gen.pollinations.ai', request({ seed: 7 }), 'flux'));
    expect(url.origin + url.pathname).toBe('https://gen.pollinations.ai/image/a%20cat%20%2F%20a%20%22dog%22%3F');
    expect(decodeURIComponent(url.pathname.slice('/image/'.length))).toBe('a cat / a "dog"?');
    expect(Object.fromEntries(url.searchParams)).toEqual({ model: 'flux', width: '512', height: '256', seed: '7', nologo: 'true' });
  });

  it('keeps a prompt of `.` or `..` a path segment, never a request for /image or the base URL', () => {
    for (const prompt of ['.', '..']) {
      const url = new URL(pollinationsImageUrl('https://gen.pollinations.ai/base', request({ prompt }), 'flux'));
      expect(url.pathname).toBe(`/base/image/${prompt}%20`);
      expect(decodeURIComponent(url.pathname.slice('/base/image/'.length)).trim()).toBe(prompt);
    }
    expect(new URL(pollinationsImageUrl('http://x', request({ prompt: '../..' }), 'flux')).pathname).toBe('/image/..%2F..');
  });

  it('sends no seed when there is none, and quality only when it means something', () => {
    const plain = new URL(pollinationsImageUrl('http://127.0.0.1:9/pollinations', request({ params: { quality: 'auto' } }), 'turbo'));
    expect(plain.pathname.startsWith('/pollinations/image/')).toBe(true);
    expect(plain.searchParams.has('seed')).toBe(false);
    expect(plain.searchParams.has('quality')).toBe(false);
    const hd = new URL(pollinationsImageUrl('http://x', request({ params: { quality: 'hd', negative_prompt: 'text' } }), 'gptimage'));
    expect(hd.searchParams.get('quality')).toBe('hd');
    expect(hd.searchParams.get('negative_prompt')).toBe('text');
  });
});

describe('buildPollinationsSpeechBody', () => {
  it('is OpenAI’s speech body with the upstream model', () => {
    const req: SpeechRequest = { input: 'Hello', voice: 'nova', format: 'wav' };
    expect(buildPollinationsSpeechBody(req, 'openai-audio')).toEqual({ model: 'openai-audio', input: 'Hello', voice: 'nova', response_format: 'wav' });
    expect(buildPollinationsSpeechBody({ ...req, speed: 1.5, instructions: 'whisper' }, 'm')).toMatchObject({ speed: 1.5, instructions: 'whisper' });
  });
});
