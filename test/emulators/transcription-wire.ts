import type { IncomingHttpHeaders } from 'node:http';
import type { MediaFaultShape, MediaResult } from './media-wire.ts';
import type { ErrorSpec, ProviderProfile, Route } from './providers.ts';
import { isRecord } from './types.ts';

/**
 * Speech recognition as DeepInfra (OpenAI's multipart /audio/transcriptions), HuggingFace's
 * hf-inference ASR (raw audio bytes in, `{text}` out) and Workers AI whisper (base64 audio in JSON,
 * `{result: {text, segments, vtt, transcription_info}}`) answer it. The "transcript" says how
 * long the audio was and which provider heard it, so tests can tell who answered and check that
 * the audio arrived whole.
 */

export interface TranscriptionRequest {
  profile: ProviderProfile;
  route: Route;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  models: readonly string[];
}

export interface Segment {
  start: number;
  end: number;
  text: string;
}

const MAX_SEGMENT_SECONDS = 1;

/** Which container the bytes are, by their magic numbers (what a real decoder would sniff). */
export function audioKind(bytes: Buffer): string | undefined {
  const ascii = (from: number, to: number) => bytes.subarray(from, to).toString('latin1');
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return 'wav';
  if (ascii(0, 4) === 'fLaC') return 'flac';
  if (ascii(0, 4) === 'OggS') return 'ogg';
  if (ascii(0, 3) === 'ID3' || (bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0)) return 'mp3';
  if (ascii(4, 8) === 'ftyp') return 'm4a';
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0x1a45dfa3) return 'webm';
  return undefined;
}

/** A WAV file's duration from its header; other formats count as one second. */
export function audioSeconds(bytes: Buffer, kind: string): number {
  if (kind !== 'wav' || bytes.length < 44) return 1;
  const byteRate = bytes.readUInt32LE(28);
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = bytes.subarray(offset, offset + 4).toString('latin1');
    const size = bytes.readUInt32LE(offset + 4);
    if (id === 'data') return byteRate > 0 ? Math.round((Math.min(size, bytes.length - offset - 8) / byteRate) * 1000) / 1000 : 1;
    offset += 8 + size + (size % 2);
  }
  return 1;
}

export function transcriptText(provider: string, model: string, seconds: number): string {
  return `Transcribed ${seconds.toFixed(2)} s of audio with ${provider} (${model}).`;
}

function segmentsOf(text: string, seconds: number): Segment[] {
  const count = Math.max(1, Math.ceil(seconds / MAX_SEGMENT_SECONDS));
  const words = text.split(' ');
  const per = Math.ceil(words.length / count);
  return Array.from({ length: count }, (_, i) => ({
    start: Math.round(i * (seconds / count) * 1000) / 1000,
    end: Math.round((i + 1) * (seconds / count) * 1000) / 1000,
    text: words.slice(i * per, (i + 1) * per).join(' '),
  })).filter((s) => s.text !== '');
}

export function answerTranscription(req: TranscriptionRequest): MediaResult {
  switch (req.profile.id) {
    case 'deepinfra':
    case 'custom':
      return openAiTranscription(req);
    case 'huggingface':
      return huggingfaceTranscription(req);
    case 'cloudflare':
      return cloudflareTranscription(req);
    default:
      return fail(404, `Unknown endpoint for ${req.profile.id}`);
  }
}

export function transcriptionFaultShape(profile: ProviderProfile): MediaFaultShape {
  if (profile.id === 'cloudflare')
    return { contentType: 'application/json', garbage: '{"result": {', empty: '{"result":{},"success":true,"errors":[],"messages":[]}' };
  return { contentType: 'application/json', garbage: '{"text": ', empty: '{}' };
}

function openAiTranscription(req: TranscriptionRequest): MediaResult {
  const form = parseMultipart(req.headers['content-type'], req.raw);
  if (typeof form === 'string') return fail(400, form);
  const file = form.files.get('file');
  const model = form.fields.get('model') ?? '';
  if (!file) return fail(422, 'field required: file');
  if (!model) return fail(422, 'field required: model');
  const modelError = checkModel(req, model);
  if (modelError) return { error: modelError };
  const kind = audioKind(file);
  if (!kind) return fail(400, 'Invalid file format: could not decode the audio');
  const format = form.fields.get('response_format') ?? 'json';
  const seconds = audioSeconds(file, kind);
  const text = transcriptText(req.profile.id, model, seconds);
  const language = form.fields.get('language') ?? 'en';
  switch (format) {
    case 'json':
      return json({ text });
    case 'text':
      return plain('text/plain; charset=utf-8', text);
    case 'verbose_json':
      return json({ task: 'transcribe', language, duration: seconds, text, segments: segmentsOf(text, seconds).map((s, id) => ({ id, ...s })) });
    case 'srt':
      return plain(
        'text/plain; charset=utf-8',
        segmentsOf(text, seconds)
          .map((s, i) => `${i + 1}\n${clock(s.start, ',')} --> ${clock(s.end, ',')}\n${s.text}\n`)
          .join('\n'),
      );
    case 'vtt':
      return plain(
        'text/vtt; charset=utf-8',
        `WEBVTT\n\n${segmentsOf(text, seconds)
          .map((s) => `${clock(s.start, '.')} --> ${clock(s.end, '.')}\n${s.text}\n`)
          .join('\n')}`,
      );
    default:
      return fail(422, 'response_format must be one of json, text, verbose_json, srt, vtt');
  }
}

function huggingfaceTranscription(req: TranscriptionRequest): MediaResult {
  const model = req.route.model ?? '';
  const modelError = checkModel(req, model);
  if (modelError) return { error: modelError };
  const type = String(req.headers['content-type'] ?? '');
  if (!type.startsWith('audio/')) return fail(400, `Content type "${type}" not supported: send the audio bytes with an audio/* type`);
  const kind = audioKind(req.raw);
  if (!kind) return fail(400, 'Malformed soundfile');
  return json({ text: transcriptText(req.profile.id, model, audioSeconds(req.raw, kind)) });
}

function cloudflareTranscription(req: TranscriptionRequest): MediaResult {
  const model = req.route.model ?? '';
  let body: unknown;
  try {
    body = JSON.parse(req.raw.toString('utf8'));
  } catch {
    return { error: { status: 400, code: 5006, message: 'AiError: Bad input: the body must be JSON' } };
  }
  if (!isRecord(body) || typeof body.audio !== 'string' || body.audio === '') {
    return { error: { status: 400, code: 5006, message: "AiError: Bad input: Type mismatch of '/audio', 'string' required (base64)" } };
  }
  const modelError = checkModel(req, model);
  if (modelError) return { error: modelError };
  const audio = Buffer.from(body.audio, 'base64');
  const kind = audioKind(audio);
  if (!kind) return { error: { status: 400, code: 5006, message: 'AiError: Bad input: could not decode the audio' } };
  const seconds = audioSeconds(audio, kind);
  const text = transcriptText(req.profile.id, model, seconds);
  const segments = segmentsOf(text, seconds);
  const language = typeof body.language === 'string' ? body.language : 'en';
  return json({
    result: {
      transcription_info: { language, language_probability: 0.99, duration: seconds, duration_after_vad: seconds },
      text,
      word_count: text.split(' ').length,
      segments: segments.map((s) => ({ ...s, temperature: 0, avg_logprob: -0.2, compression_ratio: 1.1, no_speech_prob: 0.01 })),
      vtt: `WEBVTT\n\n${segments.map((s) => `${s.start.toFixed(3)} --> ${s.end.toFixed(3)}\n${s.text}`).join('\n\n')}\n`,
    },
    success: true,
    errors: [],
    messages: [],
  });
}

interface Multipart {
  fields: Map<string, string>;
  files: Map<string, Buffer>;
}

/** A small multipart/form-data reader: enough for what an HTTP client sends, strict on the rest. */
export function parseMultipart(contentType: string | undefined, raw: Buffer): Multipart | string {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
  if (!contentType?.startsWith('multipart/form-data') || !boundary) return 'Content-Type must be multipart/form-data with a boundary';
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const result: Multipart = { fields: new Map(), files: new Map() };
  let at = raw.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (raw.subarray(start, start + 2).toString() === '--') return result;
    const next = raw.indexOf(delimiter, start);
    if (next === -1) return 'multipart body has no closing boundary';
    const part = raw.subarray(start + 2, next - 2);
    const split = part.indexOf('\r\n\r\n');
    if (split === -1) return 'multipart part has no header';
    const head = part.subarray(0, split).toString('utf8');
    const content = part.subarray(split + 4);
    const name = /name="([^"]*)"/i.exec(head)?.[1];
    if (name !== undefined) {
      if (/filename="/i.test(head)) result.files.set(name, content);
      else result.fields.set(name, content.toString('utf8'));
    }
    at = next;
  }
  return 'multipart body has no boundary';
}

function clock(seconds: number, comma: string): string {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${comma}${pad(ms % 1000, 3)}`;
}

function checkModel(req: TranscriptionRequest, model: string): ErrorSpec | undefined {
  return req.models.includes(req.profile.listedId(model)) ? undefined : req.profile.unknownModel(model);
}

function fail(status: number, message: string): MediaResult {
  return { error: { status, message } };
}

function json(body: unknown): MediaResult {
  return plain('application/json', JSON.stringify(body));
}

function plain(contentType: string, text: string): MediaResult {
  return { reply: { contentType, body: Buffer.from(text) } };
}
