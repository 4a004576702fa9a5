import { mkdtempSync, readdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/app-config.ts';
import { parseImageSize } from '../openai-compat/image-request.dto.ts';
import { FileImageStore } from './image-store.ts';
import { decodeBase64Image, looksLikeText, sniffAudio, sniffImage } from './media-bytes.ts';
import { publicBaseUrl } from './public-url.ts';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

describe('sniffImage / sniffAudio', () => {
  it('names image formats by their magic bytes', () => {
    expect(sniffImage(PNG)).toBe('image/png');
    expect(sniffImage(Buffer.from([0xff, 0xd8, 0xff, 0xdb]))).toBe('image/jpeg');
    expect(sniffImage(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffImage(Buffer.from('GIF89a...'))).toBe('image/gif');
    expect(sniffImage(Buffer.from('<html>'))).toBeUndefined();
    expect(sniffImage(Buffer.alloc(0))).toBeUndefined();
  });

  it('names audio containers', () => {
    expect(sniffAudio(Buffer.from('ID3\x04\0\0'))).toBe('mp3');
    expect(sniffAudio(Buffer.from([0xff, 0xfb, 0x14, 0xc4]))).toBe('mp3');
    expect(sniffAudio(Buffer.from([0xff, 0xf1, 0x50, 0x80]))).toBe('aac');
    expect(sniffAudio(Buffer.from('fLaC\0\0\0\x22'))).toBe('flac');
    expect(sniffAudio(Buffer.from('RIFF\0\0\0\0WAVEfmt '))).toBe('wav');
    expect(sniffAudio(Buffer.from('OggS\0\x02\0\0OpusHead'))).toBe('opus');
    expect(sniffAudio(Buffer.from('OggS\0\x02\0\0vorbis'))).toBeUndefined();
    expect(sniffAudio(Buffer.from('{"error":1}'))).toBeUndefined();
  });

  it('tells text from binary', () => {
    expect(looksLikeText(Buffer.from('{"error":"x"}\n'))).toBe(true);
    expect(looksLikeText(Buffer.from([0x10, 0x00, 0xff]))).toBe(false);
  });

  it('decodes base64 and base64 data URLs only', () => {
    expect(decodeBase64Image(`data:image/png;base64,${PNG.toString('base64')}`)).toEqual(PNG);
    expect(decodeBase64Image(PNG.toString('base64url'))).toEqual(PNG);
    expect(decodeBase64Image('data:text/plain,hello')).toBeUndefined();
    expect(decodeBase64Image('not base64!')).toBeUndefined();
  });
});

describe('parseImageSize', () => {
  it('reads OpenAI sizes and WIDTHxHEIGHT within bounds', () => {
    expect(parseImageSize('256x256')).toEqual({ width: 256, height: 256 });
    expect(parseImageSize('1792x1024')).toEqual({ width: 1792, height: 1024 });
    expect(parseImageSize('auto')).toEqual({ width: 1024, height: 1024 });
    expect(parseImageSize('640x360')).toEqual({ width: 640, height: 360 });
    for (const bad of ['1024', '1024X1024', '0x512', '8192x512', 'x', '1024x1024x2', ' 512x512']) expect(parseImageSize(bad)).toBeUndefined();
  });
});

describe('publicBaseUrl', () => {
  it('uses PUBLIC_BASE_URL when set', () => {
    expect(publicBaseUrl({ headers: { host: 'inside:8080' } }, 'https://ai.example.com/pool/')).toBe('https://ai.example.com/pool');
  });

  it('uses the request origin as Express reports it (forwarded values only through a trusted proxy)', () => {
    expect(publicBaseUrl({ headers: { host: '127.0.0.1:8080' }, protocol: 'http' })).toBe('http://127.0.0.1:8080');
    // What Express gives for a request a trusted proxy forwarded: its X-Forwarded-Proto and X-Forwarded-Host.
    expect(publicBaseUrl({ headers: { host: 'inside:8080' }, protocol: 'https', host: 'ai.example.com' })).toBe('https://ai.example.com');
    expect(publicBaseUrl({ headers: { host: '[::1]:8080' } })).toBe('http://[::1]:8080');
  });

  it("never reads forwarded headers itself: without Express having trusted them, they are anyone's", () => {
    expect(
      publicBaseUrl({
        headers: { host: 'inside:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' },
        protocol: 'http',
        host: 'inside:8080',
      }),
    ).toBe('http://inside:8080');
  });

  it('ignores values that are not a plain scheme or host', () => {
    expect(publicBaseUrl({ headers: { host: 'gw:1' }, protocol: 'javascript', host: 'evil.com/path?x=' })).toBe('http://gw:1');
    expect(publicBaseUrl({ headers: {} })).toBe('http://localhost');
  });
});

describe('FileImageStore', () => {
  const make = (ttl: string) => {
    const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'g4f-store-')), IMAGE_URL_TTL_SECONDS: ttl });
    return new FileImageStore(config);
  };

  it('saves under DATA_DIR/images with an unguessable name and reads it back', async () => {
    const store = make('60');
    await store.onModuleInit();
    try {
      const a = await store.save(PNG, 'image/png');
      const b = await store.save(PNG, 'image/png');
      expect(a).toMatch(/^[A-Za-z0-9_-]{32}\.png$/);
      expect(a).not.toBe(b);
      expect(readdirSync(store.dir).sort()).toEqual([a, b].sort());
      const read = await store.read(a);
      expect(read?.mime).toBe('image/png');
      expect(read?.data).toEqual(PNG);
      expect(read!.expiresAt).toBeGreaterThan(Date.now() + 55_000);
    } finally {
      await store.onModuleDestroy();
    }
  });

  it('serves nothing outside its own names', async () => {
    const store = make('60');
    await store.onModuleInit();
    try {
      const name = await store.save(PNG, 'image/png');
      for (const bad of ['../images/' + name, name.replace('.png', '.jpg'), name + '.tmp', 'short.png', `.${name}.tmp`]) {
        expect(await store.read(bad)).toBeUndefined();
      }
    } finally {
      await store.onModuleDestroy();
    }
  });

  it('expires files by age: not served, and swept from disk', async () => {
    const store = make('60');
    await store.onModuleInit();
    try {
      const old = await store.save(PNG, 'image/png');
      const fresh = await store.save(PNG, 'image/png');
      const past = new Date(Date.now() - 61_000);
      utimesSync(join(store.dir, old), past, past);
      expect(await store.read(old)).toBeUndefined();
      utimesSync(join(store.dir, fresh), past, past);
      const kept = await store.save(PNG, 'image/png');
      expect(await store.sweep()).toBe(1);
      expect(readdirSync(store.dir)).toEqual([kept]);
    } finally {
      await store.onModuleDestroy();
    }
  });
});
