import { decodeBase64Image, looksLikeText, sniffAudio, sniffImage, SPEECH_CONTENT_TYPES, type ImageMime } from '../media/media-bytes.ts';
import { upstreamErrorMessage } from './openai-compatible/openai-mapping.ts';
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

/** Why a body declared as `contentType` is not media, when the header alone says so. */
function textualBody(data: Buffer, contentType: string | undefined, expected: string): UpstreamError | undefined {
  const type = baseType(contentType);
  const excerpt = upstreamErrorMessage(data.subarray(0, 4096).toString('utf8'));
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
export function checkImageBytes(data: Buffer, contentType: string | undefined): ImageBytes {
  if (data.length === 0) throw invalid('upstream answered with an empty body instead of an image');
  const textual = textualBody(data, contentType, 'an image');
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
  const res = await ctx.http.open({ method: 'GET', url, headers: { accept: 'image/*' }, signal: ctx.signal, proxy: ctx.proxy });
  return readImageResponse(ctx, res);
}
