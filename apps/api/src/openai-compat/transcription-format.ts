import type { TranscriptSegment, TranscriptionResult } from '../providers/provider-adapter.ts';

export const TRANSCRIPTION_FORMATS = ['json', 'text', 'verbose_json', 'srt', 'vtt'] as const;
export type TranscriptionFormat = (typeof TRANSCRIPTION_FORMATS)[number];

/** Formats that cannot be written without timed segments. */
export const NEEDS_SEGMENTS: ReadonlySet<TranscriptionFormat> = new Set(['srt', 'vtt']);

/** The audio formats OpenAI's endpoint takes, told by their first bytes (not the client's file name or type). */
export function sniffUpload(data: Buffer): { ext: string; mime: string } | undefined {
  if (data.length < 12) return undefined;
  const ascii = (from: number, to: number) => data.toString('latin1', from, to);
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return { ext: 'wav', mime: 'audio/wav' };
  if (ascii(0, 4) === 'fLaC') return { ext: 'flac', mime: 'audio/flac' };
  if (ascii(0, 4) === 'OggS') return { ext: 'ogg', mime: 'audio/ogg' };
  if (ascii(4, 8) === 'ftyp') return { ext: 'm4a', mime: 'audio/mp4' };
  if (data.readUInt32BE(0) === 0x1a45dfa3) return { ext: 'webm', mime: 'audio/webm' };
  if (ascii(0, 3) === 'ID3' || (data[0] === 0xff && (data[1]! & 0xe0) === 0xe0)) return { ext: 'mp3', mime: 'audio/mpeg' };
  return undefined;
}

/** `00:01:02,345` (srt) or `00:01:02.345` (vtt). */
export function timestamp(seconds: number, separator: ',' | '.'): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
}

export function toSrt(segments: readonly TranscriptSegment[]): string {
  return segments.map((s, i) => `${i + 1}\n${timestamp(s.start, ',')} --> ${timestamp(s.end, ',')}\n${s.text.trim()}\n`).join('\n');
}

export function toVtt(segments: readonly TranscriptSegment[]): string {
  return `WEBVTT\n\n${segments.map((s) => `${timestamp(s.start, '.')} --> ${timestamp(s.end, '.')}\n${s.text.trim()}\n`).join('\n')}`;
}

/**
 * OpenAI's verbose_json. Segments only where the route gave them; the per-segment decoder
 * statistics OpenAI's schema requires (temperature, avg_logprob...) are not reported by every
 * route and are 0 here.
 */
export function toVerboseJson(result: TranscriptionResult, requestedLanguage: string | undefined): Record<string, unknown> {
  const duration = result.duration ?? result.segments?.at(-1)?.end ?? 0;
  const body: Record<string, unknown> = { task: 'transcribe', language: result.language ?? requestedLanguage ?? 'unknown', duration, text: result.text };
  if (result.segments) {
    body.segments = result.segments.map((s, id) => ({
      id,
      seek: 0,
      start: s.start,
      end: s.end,
      text: s.text,
      tokens: [],
      temperature: 0,
      avg_logprob: 0,
      compression_ratio: 0,
      no_speech_prob: 0,
    }));
  }
  return body;
}

/** The answer's body and content type for `format`. */
export function renderTranscript(result: TranscriptionResult, format: TranscriptionFormat, language?: string): { type: string; body: string } {
  switch (format) {
    case 'text':
      return { type: 'text/plain; charset=utf-8', body: result.text };
    case 'srt':
      return { type: 'text/plain; charset=utf-8', body: toSrt(result.segments ?? []) };
    case 'vtt':
      return { type: 'text/vtt; charset=utf-8', body: toVtt(result.segments ?? []) };
    case 'verbose_json':
      return { type: 'application/json; charset=utf-8', body: JSON.stringify(toVerboseJson(result, language)) };
    default:
      return { type: 'application/json; charset=utf-8', body: JSON.stringify({ text: result.text }) };
  }
}
