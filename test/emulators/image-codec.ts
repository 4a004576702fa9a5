import { createHash } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';

/** Solid-colour images: valid files of any size that stay tiny and cost next to nothing to make. */

export type ImageFormat = 'png' | 'jpeg';

export type Rgb = readonly [number, number, number];

export const IMAGE_CONTENT_TYPES: Record<ImageFormat, string> = { png: 'image/png', jpeg: 'image/jpeg' };

/** Largest side the emulator draws; bigger requests are clamped (the answer stays valid). */
export const MAX_IMAGE_SIDE = 4096;

/** The colour an image for this prompt gets: the first three bytes of sha256(prompt, seed, index). */
export function imageColor(prompt: string, seed?: number, index = 0): Rgb {
  const digest = createHash('sha256')
    .update(`${prompt}\u0000${seed ?? ''}\u0000${index}`)
    .digest();
  return [digest[0], digest[1], digest[2]];
}

export function hexColor([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

export function encodeImage(format: ImageFormat, width: number, height: number, color: Rgb): Buffer {
  const w = clampSide(width);
  const h = clampSide(height);
  return format === 'png' ? encodePng(w, h, color) : encodeJpeg(w, h, color);
}

function clampSide(n: number): number {
  return Number.isFinite(n) ? Math.min(MAX_IMAGE_SIDE, Math.max(1, Math.round(n))) : 1;
}

// ---------------------------------------------------------------- PNG

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** A 1-bit palette PNG with one palette entry: every pixel is index 0. */
export function encodePng(width: number, height: number, color: Rgb): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 3; // colour type: palette
  // compression, filter and interlace methods stay 0
  const rowBytes = 1 + Math.ceil(width / 8); // filter byte (0 = None) + packed indices
  const raw = Buffer.alloc(rowBytes * height);
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr),
    pngChunk('PLTE', Buffer.from(color)),
    pngChunk('tEXt', Buffer.from(`Software\u0000gpt4free-pool emulator ${hexColor(color)}`, 'latin1')),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---------------------------------------------------------------- JPEG

/** Collects bits most-significant first, with JPEG's 0xFF byte stuffing. */
class BitWriter {
  #bytes: number[] = [];
  #acc = 0;
  #count = 0;

  write(value: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      this.#acc = (this.#acc << 1) | ((value >> i) & 1);
      if (++this.#count === 8) this.#emit();
    }
  }

  /** Writes `count` zero bits quickly (the bulk of a solid image). */
  zeros(count: number): void {
    let left = count;
    while (left > 0 && this.#count !== 0) {
      this.write(0, 1);
      left--;
    }
    const whole = Math.floor(left / 8);
    for (let i = 0; i < whole; i++) this.#bytes.push(0);
    this.write(0, left - whole * 8);
  }

  /** Pads the last byte with 1 bits, as the standard asks. */
  finish(): Buffer {
    while (this.#count !== 0) this.write(1, 1);
    return Buffer.from(this.#bytes);
  }

  #emit(): void {
    this.#bytes.push(this.#acc);
    if (this.#acc === 0xff) this.#bytes.push(0);
    this.#acc = 0;
    this.#count = 0;
  }
}

function segment(marker: number, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0xff00 | marker, 0);
  head.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([head, data]);
}

function toYCbCr([r, g, b]: Rgb): Rgb {
  const clamp = (v: number): number => Math.min(255, Math.max(0, Math.round(v)));
  return [clamp(0.299 * r + 0.587 * g + 0.114 * b), clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b), clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)];
}

/**
 * A baseline YCbCr 4:4:4 JPEG of one flat colour. With an all-ones quantization table the only
 * non-zero coefficient is the first block's DC (8 × (value − 128)); every later block is a zero
 * DC difference plus end-of-block. Tiny Huffman tables: DC categories 0–11 get 4-bit codes
 * (category n = code n), and the AC table holds only EOB as the 1-bit code 0.
 */
export function encodeJpeg(width: number, height: number, color: Rgb): Buffer {
  const ycc = toYCbCr(color);
  const jfif = Buffer.from([0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
  const comment = Buffer.from(`gpt4free-pool emulator ${hexColor(color)}`, 'latin1');
  const dqt = Buffer.concat([Buffer.from([0x00]), Buffer.alloc(64, 1)]);
  const sof = Buffer.alloc(15);
  sof[0] = 8;
  sof.writeUInt16BE(height, 1);
  sof.writeUInt16BE(width, 3);
  sof[5] = 3;
  for (let c = 0; c < 3; c++) sof.set([c + 1, 0x11, 0x00], 6 + c * 3);
  const dcBits = Buffer.alloc(16);
  dcBits[3] = 12;
  const dht = Buffer.concat([
    Buffer.from([0x00]),
    dcBits,
    Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
    Buffer.from([0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    Buffer.from([0x00]),
  ]);
  const sos = Buffer.from([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]);

  const bits = new BitWriter();
  for (const value of ycc) {
    const dc = 8 * (value - 128);
    const category = dc === 0 ? 0 : Math.floor(Math.log2(Math.abs(dc))) + 1;
    bits.write(category, 4);
    if (category > 0) bits.write(dc > 0 ? dc : dc + (1 << category) - 1, category);
    bits.write(0, 1); // EOB
  }
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  bits.zeros((blocks - 1) * 3 * 5);

  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    segment(0xe0, jfif),
    segment(0xfe, comment),
    segment(0xdb, dqt),
    segment(0xc0, sof),
    segment(0xc4, dht),
    segment(0xda, sos),
    bits.finish(),
    Buffer.from([0xff, 0xd9]),
  ]);
}

// ---------------------------------------------------------------- inspection

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
  /** The flat colour the emulator drew (from PNG's palette or the JPEG comment). */
  color?: string;
}

/** Reads format, size and the emulator's colour from an image; undefined when it is neither PNG nor JPEG. */
export function inspectImage(bytes: Uint8Array): ImageInfo | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length >= 24 && buf.subarray(0, 8).equals(PNG_SIGNATURE) && buf.toString('latin1', 12, 16) === 'IHDR') {
    const info: ImageInfo = { format: 'png', width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
    const plte = buf.indexOf('PLTE', 8, 'latin1');
    if (plte > 0 && buf.readUInt32BE(plte - 4) >= 3) info.color = hexColor([buf[plte + 4], buf[plte + 5], buf[plte + 6]]);
    return info;
  }
  if (buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return inspectJpeg(buf);
  return undefined;
}

function inspectJpeg(buf: Buffer): ImageInfo | undefined {
  let offset = 2;
  let color: string | undefined;
  while (offset + 4 <= buf.length && buf[offset] === 0xff) {
    const marker = buf[offset + 1];
    const length = buf.readUInt16BE(offset + 2);
    if (marker === 0xfe) color = /#[0-9a-f]{6}/.exec(buf.toString('latin1', offset + 4, offset + 2 + length))?.[0];
    if (marker >= 0xc0 && marker <= 0xc3 && offset + 9 <= buf.length) {
      return { format: 'jpeg', height: buf.readUInt16BE(offset + 5), width: buf.readUInt16BE(offset + 7), ...(color ? { color } : {}) };
    }
    offset += 2 + length;
  }
  return undefined;
}
