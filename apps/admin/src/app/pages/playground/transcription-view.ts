/** Pure derivations for the playground's 语音识别 tab: the file check, the formats, the transcript as shown. */
import type { ApiFailure } from '../../core/api-error';

export const RESPONSE_FORMATS = [
  { value: 'json', label: 'json', hint: '只有文本' },
  { value: 'verbose_json', label: 'verbose_json', hint: '文本、语言、时长与分段' },
  { value: 'text', label: 'text', hint: '纯文本' },
  { value: 'srt', label: 'srt', hint: 'SubRip 字幕（需要上游给出分段）' },
  { value: 'vtt', label: 'vtt', hint: 'WebVTT 字幕（需要上游给出分段）' },
] as const;
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number]['value'];

export const isResponseFormat = (v: unknown): v is ResponseFormat => RESPONSE_FORMATS.some((f) => f.value === v);

/** What the file picker offers (the gateway tells the format by the file's first bytes). */
export const AUDIO_ACCEPT = '.mp3,.wav,.m4a,.webm,.ogg,.oga,.flac,audio/*';

/** Segments shown; the rest are counted (a long recording has hundreds). */
export const MAX_SHOWN_SEGMENTS = 200;
/** The transcript text kept for display (the gateway's own answers are bounded; this bounds a strange one). */
export const MAX_TRANSCRIPT_CHARS = 200_000;

/** 512 B · 320 KB · 1.5 MB */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  const mb = n / (1024 * 1024);
  return `${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB`;
}

/** Why this file cannot be sent, or null: empty, or over the server's TRANSCRIPTION_MAX_BYTES (when known). */
export function fileProblem(file: { size: number }, maxBytes: number | null): string | null {
  if (file.size === 0) return '文件是空的。';
  if (maxBytes !== null && file.size > maxBytes) {
    return `文件有 ${formatBytes(file.size)}，超过了服务器的上限 ${formatBytes(maxBytes)}（TRANSCRIPTION_MAX_BYTES）。`;
  }
  return null;
}

export interface TranscriptSegment {
  start: number;
  end: number;
  text: string;
}

export interface Transcript {
  /** The text (json, text, verbose_json), or the subtitle file itself (srt, vtt). */
  text: string;
  segments: TranscriptSegment[];
  /** Segments not shown (over MAX_SHOWN_SEGMENTS). */
  hiddenSegments: number;
  language: string | null;
  /** Seconds of audio, when the answer says. */
  duration: number | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The answer's body as the tab shows it; a JSON format whose body is not JSON shows as text. */
export function parseTranscript(body: string, format: ResponseFormat): Transcript {
  const plain: Transcript = { text: body.slice(0, MAX_TRANSCRIPT_CHARS), segments: [], hiddenSegments: 0, language: null, duration: null };
  if (format !== 'json' && format !== 'verbose_json') return plain;
  let parsed: { text?: unknown; language?: unknown; duration?: unknown; segments?: unknown };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return plain;
  }
  const segments = (Array.isArray(parsed.segments) ? (parsed.segments as Array<{ start?: unknown; end?: unknown; text?: unknown } | null>) : [])
    .filter((s): s is { start?: unknown; end?: unknown; text?: unknown } => !!s && typeof s === 'object')
    .map((s) => ({ start: num(s.start) ?? 0, end: num(s.end) ?? 0, text: typeof s.text === 'string' ? s.text.trim() : '' }));
  return {
    text: (typeof parsed.text === 'string' ? parsed.text : '').slice(0, MAX_TRANSCRIPT_CHARS),
    segments: segments.slice(0, MAX_SHOWN_SEGMENTS),
    hiddenSegments: Math.max(0, segments.length - MAX_SHOWN_SEGMENTS),
    language: typeof parsed.language === 'string' ? parsed.language : null,
    duration: num(parsed.duration),
  };
}

/** 0:03.20 · 1:02:03.00 */
export function formatTimestamp(seconds: number): string {
  const s = Math.max(0, seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = (s % 60).toFixed(2).padStart(5, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/**
 * An upload's failure in the tab's words: a 413 names the server's limit; a connection that
 * broke while the file was going up (the server refuses an oversized upload and closes it) may be
 * the same limit.
 */
export function uploadFailureMessage(failure: ApiFailure, fileSize: number, maxBytes: number | null): string | null {
  if (failure.status === 413) {
    return `文件太大（HTTP 413）：超过了服务器的上限${maxBytes === null ? '' : ` ${formatBytes(maxBytes)}`}（TRANSCRIPTION_MAX_BYTES）。`;
  }
  if (failure.status === 0 && fileSize > 1024 * 1024) return '上传中断：连接在文件传完之前被关闭（文件可能超过了服务器的大小上限 TRANSCRIPTION_MAX_BYTES）。';
  return null;
}
