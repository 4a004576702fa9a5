import { asVector, decodeFloat32Base64, rejectEmbeddedError } from '../embedding-vectors.ts';
import { UpstreamError, type EmbeddingRequest, type EmbeddingResult } from '../provider-adapter.ts';
import { isRecord } from '../upstream-errors.ts';

/** OpenAI's embeddings body (DeepInfra, custom upstreams); floats asked for, the gateway encodes base64 itself. */
export function buildOpenAIEmbeddingBody(req: EmbeddingRequest, upstreamModel: string): Record<string, unknown> {
  const body: Record<string, unknown> = { model: upstreamModel, input: req.input, encoding_format: 'float' };
  if (req.dimensions !== undefined) body.dimensions = req.dimensions;
  if (req.user !== undefined) body.user = req.user;
  return body;
}

/** `{data:[{index, embedding}], usage}` → vectors in index order; base64 strings are decoded too. */
export function parseOpenAIEmbeddings(json: unknown): EmbeddingResult {
  rejectEmbeddedError(json, 'embeddings');
  if (!isRecord(json) || !Array.isArray(json.data)) throw new UpstreamError('invalid', 'embeddings answer has no data array');
  const items = json.data.map((item, i) => {
    if (!isRecord(item)) throw new UpstreamError('invalid', `data[${i}] is not an object`);
    const order = typeof item.index === 'number' ? item.index : i;
    const vector =
      typeof item.embedding === 'string' ? decodeFloat32Base64(item.embedding, `data[${i}].embedding`) : asVector(item.embedding, `data[${i}].embedding`);
    return { order, vector };
  });
  items.sort((a, b) => a.order - b.order);
  if (items.some((item, i) => item.order !== i)) throw new UpstreamError('invalid', 'embeddings answer has missing or repeated indexes');
  const usage = isRecord(json.usage) ? json.usage : undefined;
  const tokens = usage?.prompt_tokens ?? usage?.total_tokens;
  const result: EmbeddingResult = { vectors: items.map((i) => i.vector) };
  if (typeof tokens === 'number' && Number.isInteger(tokens) && tokens >= 0) result.promptTokens = tokens;
  return result;
}
