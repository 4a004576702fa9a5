import { asVector, rejectEmbeddedError } from '../embedding-vectors.ts';
import { parseSegments } from '../openai-compatible/openai-transcriptions.ts';
import { UpstreamError, type EmbeddingRequest, type EmbeddingResult, type TranscriptionRequest, type TranscriptionResult } from '../provider-adapter.ts';
import { isRecord } from '../upstream-errors.ts';

/** Workers AI text embeddings (`@cf/baai/bge-*`): `{text: string[]}`; mean pooling is the default, and stays so. */
export function buildCloudflareEmbeddingBody(req: EmbeddingRequest): Record<string, unknown> {
  return { text: req.input };
}

/** `{result: {shape: [n, dims], data: [[…], …]}}` → the vectors; a shape that disagrees with the data fails. */
export function parseCloudflareEmbeddings(json: unknown): EmbeddingResult {
  rejectEmbeddedError(json, 'embeddings');
  const result = isRecord(json) ? json.result : undefined;
  if (!isRecord(result) || !Array.isArray(result.data)) throw new UpstreamError('invalid', 'embeddings answer has no result.data');
  const vectors = result.data.map((v, i) => asVector(v, `result.data[${i}]`));
  const shape = result.shape;
  if (Array.isArray(shape) && (shape[0] !== vectors.length || vectors.some((v) => v.length !== shape[1]))) {
    throw new UpstreamError('invalid', `embeddings answer's shape ${JSON.stringify(shape).slice(0, 40)} does not match its data`);
  }
  return { vectors };
}

/** Whisper on Workers AI: the audio as base64 in JSON (the turbo model's documented input). */
export function buildCloudflareTranscriptionBody(req: TranscriptionRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { audio: req.audio.toString('base64') };
  if (req.language !== undefined) body.language = req.language;
  if (req.prompt !== undefined) body.initial_prompt = req.prompt;
  return body;
}

/** `{result: {text, segments?, transcription_info?: {language, duration}}}`; only `text` is required. */
export function parseCloudflareTranscription(json: unknown): TranscriptionResult {
  rejectEmbeddedError(json, 'transcription');
  const result = isRecord(json) ? json.result : undefined;
  if (!isRecord(result) || typeof result.text !== 'string') throw new UpstreamError('invalid', 'transcription answer has no result.text');
  const out: TranscriptionResult = { text: result.text };
  const info = isRecord(result.transcription_info) ? result.transcription_info : {};
  if (typeof info.language === 'string') out.language = info.language;
  if (typeof info.duration === 'number' && Number.isFinite(info.duration)) out.duration = info.duration;
  const segments = parseSegments(result.segments);
  if (segments) out.segments = segments;
  return out;
}
