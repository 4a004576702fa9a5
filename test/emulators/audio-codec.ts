/**
 * Small but well-formed audio files for the speech endpoint: silence (or a quiet tone for the PCM
 * formats) whose duration grows with the input, so tests can tell answers apart by length.
 */

export type AudioFormat = 'mp3' | 'opus' | 'aac' | 'flac' | 'wav' | 'pcm';

export const AUDIO_CONTENT_TYPES: Record<AudioFormat, string> = {
  mp3: 'audio/mpeg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

export const AUDIO_FORMATS = Object.keys(AUDIO_CONTENT_TYPES) as AudioFormat[];

export function isAudioFormat(value: unknown): value is AudioFormat {
  return typeof value === 'string' && Object.hasOwn(AUDIO_CONTENT_TYPES, value);
}

/** OpenAI's speech output rate (pcm is documented as 24 kHz, 16-bit signed little-endian, mono). */
const SAMPLE_RATE = 24_000;
const MS_PER_CHAR = 20;
const BASE_MS = 100;

/** How long the emulator's "speech" for this input lasts. */
export function speechDurationMs(input: string, speed = 1): number {
  return Math.max(20, Math.round((BASE_MS + [...input].length * MS_PER_CHAR) / speed));
}

export function encodeAudio(format: AudioFormat, durationMs: number, toneHz = 220): Buffer {
  const samples = Math.max(1, Math.round((durationMs * SAMPLE_RATE) / 1000));
  switch (format) {
    case 'mp3':
      return encodeMp3(durationMs);
    case 'opus':
      return encodeOggOpus(durationMs);
    case 'aac':
      return encodeAdtsAac(samples);
    case 'flac':
      return encodeFlac(samples);
    case 'wav':
      return encodeWav(tone(samples, toneHz));
    case 'pcm':
      return tone(samples, toneHz);
  }
}

// ---------------------------------------------------------------- PCM / WAV

function tone(samples: number, hz: number): Buffer {
  const out = Buffer.alloc(samples * 2);
  const step = (2 * Math.PI * hz) / SAMPLE_RATE;
  for (let i = 0; i < samples; i++) out.writeInt16LE(Math.round(1000 * Math.sin(i * step)), i * 2);
  return out;
}

function encodeWav(pcm: Buffer): Buffer {
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(36 + pcm.length, 4);
  head.write('WAVE', 8, 'latin1');
  head.write('fmt ', 12, 'latin1');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20); // PCM
  head.writeUInt16LE(1, 22); // mono
  head.writeUInt32LE(SAMPLE_RATE, 24);
  head.writeUInt32LE(SAMPLE_RATE * 2, 28);
  head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36, 'latin1');
  head.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([head, pcm]);
}

// ---------------------------------------------------------------- MP3

/** MPEG-1 Layer III, 32 kbit/s, 48 kHz, mono: 96-byte frames of 1152 samples (24 ms). */
const MP3_HEADER = [0xff, 0xfb, 0x14, 0xc4];
const MP3_FRAME_BYTES = 96;
const MP3_FRAME_MS = 24;

function encodeMp3(durationMs: number): Buffer {
  const frames = Math.max(1, Math.ceil(durationMs / MP3_FRAME_MS));
  const out = Buffer.alloc(frames * MP3_FRAME_BYTES);
  // An all-zero side info means main_data_begin 0 and empty granules: a silent frame.
  for (let f = 0; f < frames; f++) out.set(MP3_HEADER, f * MP3_FRAME_BYTES);
  return out;
}

// ---------------------------------------------------------------- AAC (ADTS)

/** One AAC-LC mono raw_data_block: an SCE with max_sfb 0 (silence), then the END element. */
const AAC_SILENT_BLOCK = [0x00, 0x00, 0x00, 0x07];
const AAC_FRAME_SAMPLES = 1024;
const ADTS_SAMPLE_RATE_INDEX = 6; // 24 kHz

function encodeAdtsAac(samples: number): Buffer {
  const frames = Math.max(1, Math.ceil(samples / AAC_FRAME_SAMPLES));
  const length = 7 + AAC_SILENT_BLOCK.length;
  const frame = Buffer.from([
    0xff,
    0xf1, // MPEG-4, layer 0, no CRC
    (1 << 6) | (ADTS_SAMPLE_RATE_INDEX << 2) | 0, // AAC LC, 24 kHz, channel config high bit 0
    (1 << 6) | (length >> 11), // channel config 1 (mono), frame length bits 12..11
    (length >> 3) & 0xff,
    ((length & 0x7) << 5) | 0x1f, // frame length bits 2..0, buffer fullness 0x7FF (VBR)
    0xfc, // buffer fullness low bits, one raw data block
    ...AAC_SILENT_BLOCK,
  ]);
  return Buffer.concat(Array.from({ length: frames }, () => frame));
}

// ---------------------------------------------------------------- FLAC

const FLAC_BLOCK = 4096;

function crc8(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x8005) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** FLAC's UTF-8-like coding of the frame number (enough for 65535 frames). */
function flacNumber(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x800) return [0xc0 | (n >> 6), 0x80 | (n & 0x3f)];
  return [0xe0 | (n >> 12), 0x80 | ((n >> 6) & 0x3f), 0x80 | (n & 0x3f)];
}

/** 16-bit mono FLAC at 24 kHz whose frames are each one CONSTANT (zero) subframe. */
function encodeFlac(samples: number): Buffer {
  const total = Math.min(samples, FLAC_BLOCK * 0xffff);
  const info = Buffer.alloc(34);
  info.writeUInt16BE(FLAC_BLOCK, 0);
  info.writeUInt16BE(FLAC_BLOCK, 2);
  // min/max frame size 0 = unknown; then 20 bits rate, 3 bits channels-1, 5 bits bps-1, 36 bits samples.
  const packed = (BigInt(SAMPLE_RATE) << 44n) | (0n << 41n) | (15n << 36n) | BigInt(total);
  info.writeBigUInt64BE(packed, 10);
  // The MD5 signature stays zero ("not computed").
  const parts: Buffer[] = [Buffer.from('fLaC', 'latin1'), Buffer.from([0x80, 0, 0, 34]), info];

  const frames = Math.ceil(total / FLAC_BLOCK);
  for (let f = 0; f < frames; f++) {
    const size = Math.min(FLAC_BLOCK, total - f * FLAC_BLOCK);
    const full = size === FLAC_BLOCK;
    const header = [0xff, 0xf8, ((full ? 0b1100 : 0b0111) << 4) | 0b0111, (0b0000 << 4) | (0b100 << 1), ...flacNumber(f)];
    if (!full) header.push((size - 1) >> 8, (size - 1) & 0xff);
    header.push(crc8(Uint8Array.from(header)));
    const frame = [...header, 0x00, 0x00, 0x00]; // subframe: CONSTANT, value 0 (16 bits)
    const crc = crc16(Uint8Array.from(frame));
    parts.push(Buffer.from([...frame, crc >> 8, crc & 0xff]));
  }
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------- Ogg Opus

const OGG_CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ OGG_CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]) >>> 0;
  return crc;
}

const OGG_SERIAL = 0x67346670;
const OPUS_PRE_SKIP = 312;
/** TOC 0xF8 (CELT fullband, 20 ms, mono, one frame) with a payload that decodes to silence. */
const OPUS_SILENT_PACKET = Buffer.from([0xf8, 0xff, 0xfe]);
const OPUS_PACKET_MS = 20;
const PACKETS_PER_PAGE = 50;

function oggPage(packets: Buffer[], sequence: number, granule: bigint, flags: number): Buffer {
  const segments: number[] = [];
  for (const packet of packets) {
    let left = packet.length;
    while (left >= 255) {
      segments.push(255);
      left -= 255;
    }
    segments.push(left);
  }
  const head = Buffer.alloc(27);
  head.write('OggS', 0, 'latin1');
  head[5] = flags;
  head.writeBigUInt64LE(granule, 6);
  head.writeUInt32LE(OGG_SERIAL, 14);
  head.writeUInt32LE(sequence, 18);
  head[26] = segments.length;
  const page = Buffer.concat([head, Buffer.from(segments), ...packets]);
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

function encodeOggOpus(durationMs: number): Buffer {
  const opusHead = Buffer.alloc(19);
  opusHead.write('OpusHead', 0, 'latin1');
  opusHead[8] = 1; // version
  opusHead[9] = 1; // channels
  opusHead.writeUInt16LE(OPUS_PRE_SKIP, 10);
  opusHead.writeUInt32LE(SAMPLE_RATE, 12);
  const vendor = Buffer.from('gpt4free-pool emulator', 'latin1');
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write('OpusTags', 0, 'latin1');
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);

  const pages = [oggPage([opusHead], 0, 0n, 0x02), oggPage([tags], 1, 0n, 0)];
  const packets = Math.max(1, Math.ceil(durationMs / OPUS_PACKET_MS));
  for (let sent = 0; sent < packets; sent += PACKETS_PER_PAGE) {
    const count = Math.min(PACKETS_PER_PAGE, packets - sent);
    const last = sent + count >= packets;
    const granule = BigInt((sent + count) * 960);
    pages.push(
      oggPage(
        Array.from({ length: count }, () => OPUS_SILENT_PACKET),
        pages.length,
        granule,
        last ? 0x04 : 0,
      ),
    );
  }
  return Buffer.concat(pages);
}

// ---------------------------------------------------------------- inspection

/** Names the container of an audio payload by its leading bytes; undefined when unrecognised. */
export function sniffAudio(bytes: Uint8Array): Exclude<AudioFormat, 'pcm'> | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 4) return undefined;
  if (b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WAVE') return 'wav';
  if (b.toString('latin1', 0, 4) === 'fLaC') return 'flac';
  if (b.toString('latin1', 0, 4) === 'OggS' && b.includes('OpusHead')) return 'opus';
  if (b.toString('latin1', 0, 3) === 'ID3') return 'mp3';
  if (b[0] === 0xff && (b[1] & 0xf6) === 0xf0) return 'aac';
  if (b[0] === 0xff && (b[1] & 0xe0) === 0xe0) return 'mp3';
  return undefined;
}
