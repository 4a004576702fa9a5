import type { Usage } from '#contracts';

/** Neurons per million tokens, in and out (embedding models only take input). */
interface NeuronRate {
  input: number;
  output: number;
}

/** Workers AI bills at $0.011 per 1,000 neurons (developers.cloudflare.com/workers-ai/platform/pricing). */
const USD_PER_NEURON = 0.011 / 1000;
/** A rate from a model page's dollars per million tokens, through the billing rate above. */
const fromDollars = (input: number, output = 0): NeuronRate => ({
  input: Math.round(input / USD_PER_NEURON),
  output: Math.round(output / USD_PER_NEURON),
});

/**
 * What the catalog's Workers AI models cost in neurons, which their answers do not report
 * (docs/providers.md, 免费额度账本, cites each). Where the pricing page
 * (developers.cloudflare.com/workers-ai/platform/pricing) states neurons per million tokens, that
 * number is here; where only the model's page states dollars per million tokens, its neurons are
 * those dollars at the billing rate. Models with no stated per-token price (images, audio, models
 * Cloudflare no longer prices) are absent: their neurons stay uncounted, never guessed.
 */
export const NEURON_RATES: Readonly<Record<string, NeuronRate>> = {
  // Pricing page, "LLM model pricing".
  '@cf/meta/llama-3.1-8b-instruct': { input: 25_608, output: 75_147 },
  '@cf/meta/llama-3.2-1b-instruct': { input: 2_457, output: 18_252 },
  '@cf/deepseek-ai/deepseek-r1-distill-qwen-32b': { input: 45_170, output: 443_756 },
  '@cf/meta/llama-3.2-3b-instruct': { input: 4_625, output: 30_475 },
  '@cf/meta/llama-3.1-8b-instruct-fp8-fast': { input: 4_119, output: 34_868 },
  '@cf/meta/llama-3.2-11b-vision-instruct': { input: 4_410, output: 61_493 },
  '@cf/meta/llama-3.1-70b-instruct-fp8-fast': { input: 26_668, output: 204_805 },
  '@cf/meta/llama-3.3-70b-instruct-fp8-fast': { input: 26_668, output: 204_805 },
  '@cf/mistral/mistral-7b-instruct-v0.1': { input: 10_000, output: 17_300 },
  '@cf/meta/llama-3.1-8b-instruct-fp8': { input: 13_778, output: 26_128 },
  '@cf/meta/llama-3.1-8b-instruct-awq': { input: 11_161, output: 24_215 },
  '@cf/meta/llama-3-8b-instruct': { input: 25_608, output: 75_147 },
  '@cf/meta/llama-3-8b-instruct-awq': { input: 11_161, output: 24_215 },
  '@cf/meta/llama-2-7b-chat-fp16': { input: 50_505, output: 606_061 },
  // Pricing page, "Other model pricing".
  '@cf/baai/bge-base-en-v1.5': { input: 6_058, output: 0 },
  '@cf/baai/bge-large-en-v1.5': { input: 18_582, output: 0 },
  '@cf/baai/bge-small-en-v1.5': { input: 1_841, output: 0 },
  // Model pages (developers.cloudflare.com/workers-ai/models/<name>): "Unit Pricing".
  '@cf/qwen/qwen2.5-coder-32b-instruct': fromDollars(0.66, 1.0),
  '@cf/meta/llama-4-scout-17b-16e-instruct': fromDollars(0.27, 0.85),
  '@cf/baai/bge-m3': fromDollars(0.012),
};

/** The neurons an answer's usage costs on `upstreamModel`, estimated; undefined for a model without a stated rate. */
export function estimateNeurons(upstreamModel: string, usage: Pick<Usage, 'prompt_tokens' | 'completion_tokens'>): number | undefined {
  const rate = Object.hasOwn(NEURON_RATES, upstreamModel) ? NEURON_RATES[upstreamModel] : undefined;
  if (!rate) return undefined;
  const tokens = (n: number) => (Number.isFinite(n) && n > 0 ? n : 0);
  return (tokens(usage.prompt_tokens) * rate.input + tokens(usage.completion_tokens) * rate.output) / 1_000_000;
}
