import { multipartBody, type FormPart } from '../multipart-body.ts';
import { UpstreamError, type TranscriptSegment, type TranscriptionRequest, type TranscriptionResult } from '../provider-adapter.ts';
import { embeddedErrorMessage, isRecord } from '../upstream-errors.ts';

/** OpenAI's multipart transcription body; always `verbose_json`, so one answer serves every client format. */
export function buildOpenAITranscriptionBody(req: TranscriptionRequest, upstreamModel: string): { body: Buffer; contentType: string } {
  const parts: FormPart[] = [
    { name: 'file', filename: req.filename, mime: req.mime, data: req.audio },
    { name: 'model', value: upstreamModel },
    { name: 'response_format', value: 'verbose_json' },
  ];
  if (req.language !== undefined) parts.push({ name: 'language', value: req.language });
  if (req.prompt !== undefined) parts.push({ name: 'prompt', value: req.prompt });
  if (req.temperature !== undefined) parts.push({ name: 'temperature', value: String(req.temperature) });
  return multipartBody(parts);
}

/** Segments with numeric times and text; anything else in the list is dropped, not trusted. */
export function parseSegments(raw: unknown): TranscriptSegment[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const segments = raw.flatMap((s): TranscriptSegment[] =>
    isRecord(s) && typeof s.start === 'number' && typeof s.end === 'number' && typeof s.text === 'string' && Number.isFinite(s.start) && Number.isFinite(s.end)
      ? [{ start: s.start, end: s.end, text: s.text }]
      : [],
  );
  return segments.length ? segments : undefined;
}

/** `{text, language?, duration?, segments?}` (json or verbose_json); a body without `text` is not a transcript. */
export function parseOpenAITranscription(json: unknown): TranscriptionResult {
  if (isRecord(json)) {
    const error = embeddedErrorMessage(json);
    if (error !== undefined) throw new UpstreamError('invalid', `upstream error in a 2xx transcription answer: ${error}`);
  }
  if (!isRecord(json) || typeof json.text !== 'string') throw new UpstreamError('invalid', 'transcription answer has no text');
  const result: TranscriptionResult = { text: json.text };
  if (typeof json.language === 'string') result.language = json.language;
  if (typeof json.duration === 'number' && Number.isFinite(json.duration)) result.duration = json.duration;
  const segments = parseSegments(json.segments);
  if (segments) result.segments = segments;
  return result;
}
