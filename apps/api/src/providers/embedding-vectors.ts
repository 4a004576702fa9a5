import { UpstreamError } from './provider-adapter.ts';
import { embeddedErrorMessage, isRecord } from './upstream-errors.ts';

const invalid = (message: string) => new UpstreamError('invalid', message);

/** Little-endian float32 bytes of `vector`, base64: OpenAI's `encoding_format: "base64"`. */
export function encodeFloat32Base64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes.toString('base64');
}

/** The inverse, for upstreams that answer base64: a string whose length is not whole floats is not a vector. */
export function decodeFloat32Base64(text: string, where: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length === 0 || bytes.length % 4 !== 0) throw invalid(`${where} is not base64 float32 values`);
  const vector: number[] = new Array<number>(bytes.length / 4);
  for (let i = 0; i < vector.length; i++) vector[i] = bytes.readFloatLE(i * 4);
  return vector;
}

/** A vector as an upstream sent it: a non-empty array of finite numbers. */
export function asVector(value: unknown, where: string): number[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid(`${where} is not a vector`);
  for (const v of value) if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${where} holds a value that is not a finite number`);
  return value as number[];
}

/** A 2xx JSON object that is really an error (`{error}` or `success: false`) is a failed attempt. */
export function rejectEmbeddedError(json: unknown, what: string): void {
  if (!isRecord(json)) return;
  const message = embeddedErrorMessage(json);
  if (message !== undefined) throw invalid(`upstream error in a 2xx ${what} answer: ${message}`);
}

/**
 * The check every route's answer passes before it is one: as many vectors as inputs, each of the
 * expected length. A vector of another length would poison a client's index, so it fails the
 * attempt like any other answer that is not one.
 */
export function checkVectors(vectors: readonly number[][], count: number, dimensions: number | undefined): void {
  if (vectors.length !== count) throw invalid(`embeddings answer has ${vectors.length} vectors for ${count} inputs`);
  if (dimensions === undefined) return;
  const wrong = vectors.findIndex((v) => v.length !== dimensions);
  if (wrong !== -1) throw invalid(`embedding ${wrong} has ${vectors[wrong]!.length} dimensions, expected ${dimensions}`);
}

/** Splits `items` into consecutive batches of at most `size`. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  const step = Math.max(1, Math.floor(size));
  for (let i = 0; i < items.length; i += step) out.push(items.slice(i, i + step));
  return out;
}
