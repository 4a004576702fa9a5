import { pipeline, Transform } from 'node:stream';
import { decodeBase64Image, looksLikeText, sniffAudio, sniffImage, SPEECH_CONTENT_TYPES, type ImageMime } from '../media/media-bytes.ts';
import { upstreamErrorMessage } from './upstream-errors.ts';
import { UpstreamError, type AudioResult, type GeneratedImage, type SpeechFormat, type UpstreamContext } from './provider-adapter.ts';
import type { UpstreamResponse } from './upstream-http.ts';

/** An image the gateway holds: bytes whose format was checked, not taken from a header. */
export interface ImageBytes {
  data: Buffer;
  mime: ImageMime;
}

const invalid = (message: string) => new UpstreamError('invalid', message);

function baseType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Why a body declared as `contentType` is not media, when the header alone says so. `echo` quotes
 * the provider's own error text; a body fetched from a URL the upstream returned is never quoted
 * (it may be any service's page).
 */
function textualBody(data: Buffer, contentType: string | undefined, expected: string, echo = true): UpstreamError | undefined {
  const type = baseType(contentType);
  const excerpt = echo ? upstreamErrorMessage(data.subarray(0, 4096).toString('utf8')) : '';
  if (type === 'text/html') return invalid(`upstream answered with an HTML page instead of ${expected}`);
  if (type === 'application/json' || type.endsWith('+json'))
    return invalid(`upstream answered with JSON instead of ${expected}${excerpt ? `: ${excerpt}` : ''}`);
  if (type.startsWith('text/')) return invalid(`upstream answered with ${type} instead of ${expected}${excerpt ? `: ${excerpt}` : ''}`);
  return undefined;
}

/**
 * Checks a 200 body that should be an image: not empty, not a page or an error in disguise,
 * declared as an image (or as generic bytes), and really a PNG, JPEG, WebP or GIF.
 */
export function checkImageBytes(data: Buffer, contentType: string | undefined, echo = true): ImageBytes {
  if (data.length === 0) throw invalid('upstream answered with an empty body instead of an image');
  const textual = textualBody(data, contentType, 'an image', echo);
  if (textual) throw textual;
  const type = baseType(contentType);
  if (type && !type.startsWith('image/') && type !== 'application/octet-stream' && type !== 'binary/octet-stream') {
    throw invalid(`upstream answered with ${type} instead of an image`);
  }
  const mime = sniffImage(data);
  if (!mime) throw invalid(`the upstream's ${type || 'untyped'} body is not a PNG, JPEG, WebP or GIF image`);
  return { data, mime };
}

/** Base64 (optionally a data: URL) that must decode to an image. */
export function decodeImage(text: unknown, where: string): ImageBytes {
  if (typeof text !== 'string' || text === '') throw invalid(`${where} is empty`);
  const data = decodeBase64Image(text);
  if (!data) throw invalid(`${where} is not base64`);
  const mime = sniffImage(data);
  if (!mime) throw invalid(`${where} does not decode to a PNG, JPEG, WebP or GIF image`);
  return { data, mime };
}

/** Checks a 200 body that should be speech in `format`; answers with the content type OpenAI uses for it. */
export function checkAudioBytes(data: Buffer, contentType: string | undefined, format: SpeechFormat): AudioResult {
  if (data.length === 0) throw invalid('upstream answered with an empty body instead of audio');
  const textual = textualBody(data, contentType, 'audio');
  if (textual) throw textual;
  const type = baseType(contentType);
  if (type && !type.startsWith('audio/') && type !== 'application/octet-stream' && type !== 'application/ogg' && type !== 'binary/octet-stream') {
    throw invalid(`upstream answered with ${type} instead of audio`);
  }
  if (format === 'pcm') {
    if (looksLikeText(data)) throw invalid('upstream answered with text instead of PCM audio');
  } else {
    const found = sniffAudio(data);
    if (!found) throw invalid(`the upstream's ${type || 'untyped'} body is not ${format} audio`);
    if (found !== format) throw invalid(`upstream answered with ${found} audio where ${format} was asked for`);
  }
  return { data, mime: SPEECH_CONTENT_TYPES[format] };
}

/** Reads a response that should be an image; the body is consumed and closed either way. */
export async function readImageResponse(ctx: UpstreamContext, res: UpstreamResponse): Promise<ImageBytes> {
  try {
    return checkImageBytes(await ctx.http.readAll(res), res.headers['content-type']);
  } finally {
    res.close();
  }
}

/** Reads a response that should be speech in `format`. */
export async function readAudioResponse(ctx: UpstreamContext, res: UpstreamResponse, format: SpeechFormat): Promise<AudioResult> {
  try {
    return checkAudioBytes(await ctx.http.readAll(res), res.headers['content-type'], format);
  } finally {
    res.close();
  }
}

/** Redirects followed for an image URL, each hop vetted like the first. */
const MAX_REDIRECTS = 5;

/**
 * Turns what an adapter produced into bytes: checks inline images, decodes data: URLs and
 * downloads http(s) URLs (through UpstreamHttp, with the provider's proxy but never its key:
 * these are CDN links). Runs inside the attempt, so a link that does not serve an image fails
 * this provider over like any other bad answer.
 */
export async function materializeImage(image: GeneratedImage, ctx: UpstreamContext): Promise<ImageBytes> {
  if ('data' in image) {
    const mime = sniffImage(image.data);
    if (!mime) throw invalid('the upstream image is not a PNG, JPEG, WebP or GIF');
    return { data: image.data, mime };
  }
  const url = image.url;
  if (url.startsWith('data:')) return decodeImage(url, 'the image data URL');
  if (!/^https?:\/\//i.test(url)) throw invalid(`the upstream gave an image URL that is not http(s): ${url.slice(0, 60)}`);
  return fetchImage(url, ctx);
}

/**
 * Downloads an image URL an upstream returned. An upstream could point it anywhere, so every hop
 * (redirects are followed here, at most MAX_REDIRECTS) may reach public addresses only, unless
 * MEDIA_FETCH_ALLOW_HOSTS allows the host; at most MEDIA_FETCH_MAX_BYTES are read, and what such a
 * URL serves never reaches the client unless it is an image.
 */
async function fetchImage(first: string, ctx: UpstreamContext): Promise<ImageBytes> {
  const { guard, maxBytes } = ctx.http.media;
  let url = first;
  for (let hop = 0; ; hop++) {
    const res = await ctx.http.open({
      method: 'GET',
      url,
      headers: { accept: 'image/*' },
      signal: ctx.signal,
      proxy: ctx.proxy,
      addressGuard: guard,
      returnRedirects: true,
    });
    if (res.status < 300) {
      try {
        return checkImageBytes(await readCapped(ctx, res, maxBytes), res.headers['content-type'], false);
      } finally {
        res.close();
      }
    }
    const location = res.headers.location;
    res.close();
    if (!location) throw invalid(`the upstream's image URL answered ${res.status} without a Location`);
    if (hop >= MAX_REDIRECTS) throw invalid(`the upstream's image URL redirected more than ${MAX_REDIRECTS} times`);
    url = nextHop(url, location);
  }
}

function nextHop(from: string, location: string): string {
  try {
    return new URL(location, from).href;
  } catch {
    throw invalid("the upstream's image URL redirected to an invalid URL");
  }
}

/** The whole body, failing as soon as it passes `max` bytes (a declared Content-Length over it fails at once). */
async function readCapped(ctx: UpstreamContext, res: UpstreamResponse, max: number): Promise<Buffer> {
  const tooLarge = () => invalid(`the upstream's image is larger than MEDIA_FETCH_MAX_BYTES (${max} bytes)`);
  if (Number(res.headers['content-length'] ?? 0) > max) throw tooLarge();
  let size = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > max ? tooLarge() : null, chunk);
    },
  });
  pipeline(res.body, counted, () => undefined);
  return ctx.http.readAll({ ...res, body: counted });
}
