import { decodeImage } from '../media-response.ts';
import { UpstreamError, type GeneratedImage, type ImageRequest, type ImageResult } from '../provider-adapter.ts';
import { errorMessageFromJson } from '../upstream-errors.ts';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An integer from the client's pass-through params, or undefined. */
export function intParam(req: ImageRequest, name: string): number | undefined {
  const v = req.params[name];
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

/** A non-empty string from the client's pass-through params, or undefined. */
export function stringParam(req: ImageRequest, name: string): string | undefined {
  const v = req.params[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * `{data:[{b64_json}|{url}, revised_prompt?]}` (OpenAI, DeepInfra, Together's `{index, …}`) →
 * images in index order. base64 is decoded and checked here; URLs are fetched later, inside
 * the same attempt.
 */
export function parseOpenAIImages(json: unknown): ImageResult {
  if (!isRecord(json)) throw new UpstreamError('invalid', 'image answer is not a JSON object');
  if ((json.error !== undefined && json.error !== null) || json.success === false) {
    throw new UpstreamError('invalid', `upstream error in a 2xx answer: ${errorMessageFromJson(json) ?? 'no message'}`);
  }
  if (!Array.isArray(json.data)) throw new UpstreamError('invalid', 'image answer has no data array');
  if (json.data.length === 0) throw new UpstreamError('invalid', 'image answer has no images');
  const items = json.data.map((item, i) => ({ item, order: isRecord(item) && typeof item.index === 'number' ? item.index : i }));
  items.sort((a, b) => a.order - b.order);
  let revisedPrompt: string | undefined;
  const images = items.map(({ item }, i): GeneratedImage => {
    if (!isRecord(item)) throw new UpstreamError('invalid', `data[${i}] is not an object`);
    if (typeof item.revised_prompt === 'string' && item.revised_prompt && revisedPrompt === undefined) revisedPrompt = item.revised_prompt;
    if (typeof item.b64_json === 'string' && item.b64_json !== '') return decodeImage(item.b64_json, `data[${i}].b64_json`);
    if (typeof item.url === 'string' && item.url !== '') return { url: item.url };
    throw new UpstreamError('invalid', `data[${i}] has neither b64_json nor url`);
  });
  return revisedPrompt === undefined ? { images } : { images, revisedPrompt };
}
