/**
 * Recognizing what an upstream really sent: image formats by their magic bytes (an upstream's
 * Content-Type is not trusted to say so), and the content types of speech formats.
 */

export type ImageMime = 'image/png' | 'image/jpeg' | 'image/webp' | 'image/gif';

const EXTENSIONS: Record<ImageMime, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};

/** The image format of `data` by its leading bytes, or undefined when it is not an image we serve. */
export function sniffImage(data: Uint8Array): ImageMime | undefined {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (b.length >= 8 && b.readUInt32BE(0) === 0x89504e47 && b.readUInt32BE(4) === 0x0d0a1a0a) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  if (b.length >= 6 && /^GIF8[79]a$/.test(b.toString('latin1', 0, 6))) return 'image/gif';
  return undefined;
}

export function imageExtension(mime: ImageMime): string {
  return EXTENSIONS[mime];
}

/** `png` → image/png, for files the store wrote; undefined for anything else. */
export function mimeForExtension(ext: string): ImageMime | undefined {
  const found = Object.entries(EXTENSIONS).find(([, e]) => e === ext);
  return found ? (found[0] as ImageMime) : undefined;
}

export const SPEECH_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const;

/** What OpenAI's /v1/audio/speech answers with for each `response_format`. */
export const SPEECH_CONTENT_TYPES: Record<(typeof SPEECH_FORMATS)[number], string> = {
  mp3: 'audio/mpeg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

/** `data:image/png;base64,...` or plain base64 → bytes; undefined when it is not base64 at all. */
export function decodeBase64Image(text: string): Buffer | undefined {
  const comma = text.startsWith('data:') ? text.indexOf(',') : -1;
  if (text.startsWith('data:') && (comma < 0 || !text.slice(0, comma).endsWith(';base64'))) return undefined;
  const payload = (comma >= 0 ? text.slice(comma + 1) : text).replace(/\s+/g, '');
  if (!payload || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(payload)) return undefined;
  return Buffer.from(payload, payload.includes('-') || payload.includes('_') ? 'base64url' : 'base64');
}

export type SpeechFormatName = (typeof SPEECH_FORMATS)[number];

/**
 * The container of an audio payload by its leading bytes. PCM has no header: it is only told
 * apart from text (an error message sent as audio), which is never plausible raw audio.
 */
export function sniffAudio(data: Uint8Array): SpeechFormatName | undefined {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (b.length < 4) return undefined;
  const head = b.toString('latin1', 0, 4);
  if (head === 'RIFF' && b.length >= 12 && b.toString('latin1', 8, 12) === 'WAVE') return 'wav';
  if (head === 'fLaC') return 'flac';
  if (head === 'OggS') return b.includes('OpusHead') ? 'opus' : undefined;
  if (b.toString('latin1', 0, 3) === 'ID3') return 'mp3';
  if (b[0] === 0xff && (b[1]! & 0xf6) === 0xf0) return 'aac';
  if (b[0] === 0xff && (b[1]! & 0xe0) === 0xe0) return 'mp3';
  return undefined;
}

/** True when the bytes read as text (a message, JSON, HTML): never a plausible audio or image body. */
export function looksLikeText(data: Uint8Array): boolean {
  const sample = data.subarray(0, 512);
  if (sample.length === 0) return false;
  for (const byte of sample) {
    const printable = byte === 0x09 || byte === 0x0a || byte === 0x0d || (byte >= 0x20 && byte < 0x7f);
    if (!printable) return false;
  }
  return true;
}
