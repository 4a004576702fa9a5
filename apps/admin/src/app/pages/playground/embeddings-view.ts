/** Pure derivations for the playground's 嵌入 tab: the inputs to send, and what the vectors show. */

/** One input per line; the tab keeps at most this much text (it is remembered between visits). */
export const MAX_EMBEDDING_TEXT = 20_000;
/** The first values of each vector shown. */
export const PREVIEW_VALUES = 6;
/** Vectors shown one by one; the rest are counted. */
export const MAX_SHOWN_VECTORS = 50;
/** Up to this many inputs get a full similarity matrix; more are each compared with the first. */
export const MATRIX_MAX = 8;
/** An input's text as shown beside its vector. */
const INPUT_PREVIEW_CHARS = 120;

/** The inputs the text holds: one per line, trimmed, empty lines left out. */
export function splitInputs(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

export function dot(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) sum += a[i]! * b[i]!;
  return sum;
}

export function l2norm(v: readonly number[]): number {
  return Math.sqrt(dot(v, v));
}

/** Cosine similarity, -1..1; 0 when a vector is all zeros (no direction to compare). */
export function cosine(a: readonly number[], b: readonly number[]): number {
  const n = l2norm(a) * l2norm(b);
  return n === 0 ? 0 : dot(a, b) / n;
}

/** A vector component as shown: four decimals, minus sign kept. */
export const formatValue = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : String(x));

/** A similarity as shown: four decimals. */
export const formatSimilarity = (x: number): string => x.toFixed(4);

export interface VectorSummary {
  index: number;
  input: string;
  dimensions: number;
  /** The first PREVIEW_VALUES components, formatted. */
  preview: string[];
  norm: number;
  /** Beyond MATRIX_MAX inputs: the cosine similarity with the first input (null for the first itself). */
  similarityToFirst: number | null;
}

export interface EmbeddingsAnswer {
  data: Array<{ index: number; embedding: number[] | string }>;
  usage?: { prompt_tokens?: number; total_tokens?: number };
}

export interface EmbeddingsSummary {
  count: number;
  /** Every vector's length (null when they differ, which the gateway never lets through). */
  dimensions: number | null;
  promptTokens: number | null;
  vectors: VectorSummary[];
  /** Vectors not shown (over MAX_SHOWN_VECTORS). */
  hidden: number;
  /** Two inputs: their similarity. */
  pair: number | null;
  /** 3..MATRIX_MAX inputs: every pair's similarity (row i, column j). */
  matrix: number[][] | null;
}

const clip = (text: string) => (text.length > INPUT_PREVIEW_CHARS ? `${text.slice(0, INPUT_PREVIEW_CHARS)}…` : text);

/**
 * What the tab shows of an answer: dimensions, usage, a preview of each vector and how similar
 * the inputs are. The full vectors are not kept (a batch can hold thousands of them).
 */
export function summarizeEmbeddings(inputs: readonly string[], answer: EmbeddingsAnswer): EmbeddingsSummary {
  const vectors = [...answer.data].sort((a, b) => a.index - b.index).map((d) => (Array.isArray(d.embedding) ? d.embedding : []));
  const lengths = new Set(vectors.map((v) => v.length));
  const n = vectors.length;
  const first = vectors[0] ?? [];
  const wide = n > MATRIX_MAX;
  return {
    count: n,
    dimensions: lengths.size === 1 ? [...lengths][0]! : null,
    promptTokens: answer.usage?.prompt_tokens ?? null,
    vectors: vectors.slice(0, MAX_SHOWN_VECTORS).map((v, i) => ({
      index: i,
      input: clip(inputs[i] ?? ''),
      dimensions: v.length,
      preview: v.slice(0, PREVIEW_VALUES).map(formatValue),
      norm: l2norm(v),
      similarityToFirst: wide && i > 0 ? cosine(first, v) : null,
    })),
    hidden: Math.max(0, n - MAX_SHOWN_VECTORS),
    pair: n === 2 ? cosine(vectors[0]!, vectors[1]!) : null,
    matrix: n >= 3 && !wide ? vectors.map((a) => vectors.map((b) => cosine(a, b))) : null,
  };
}

/** A similarity's shade in the matrix: 0 (unrelated or opposite) to 1 (the same direction). */
export const similarityShade = (x: number): number => Math.round(Math.max(0, Math.min(1, x)) * 100) / 100;
