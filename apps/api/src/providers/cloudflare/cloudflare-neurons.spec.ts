import { NEURON_RATES, estimateNeurons } from './cloudflare-neurons.ts';

describe('estimateNeurons', () => {
  it('prices input and output tokens at the model’s documented neurons per million', () => {
    // llama-3.1-8b-instruct: 25,608 neurons per M input tokens, 75,147 per M output tokens.
    expect(estimateNeurons('@cf/meta/llama-3.1-8b-instruct', { prompt_tokens: 1_000_000, completion_tokens: 0 })).toBe(25_608);
    expect(estimateNeurons('@cf/meta/llama-3.1-8b-instruct', { prompt_tokens: 2000, completion_tokens: 1000 })).toBeCloseTo(2 * 25.608 + 75.147, 6);
    // An embedding model only takes input.
    expect(estimateNeurons('@cf/baai/bge-base-en-v1.5', { prompt_tokens: 500_000, completion_tokens: 0 })).toBe(3029);
  });

  it('turns a model page’s dollars into neurons at $0.011 per 1,000', () => {
    // qwen2.5-coder-32b-instruct: $0.66 / $1.00 per M tokens.
    expect(NEURON_RATES['@cf/qwen/qwen2.5-coder-32b-instruct']).toEqual({ input: 60_000, output: 90_909 });
  });

  it('leaves models without a stated rate (and odd usage) uncounted, never guessed', () => {
    expect(estimateNeurons('@cf/qwen/qwen-1.5-7b-chat-awq', { prompt_tokens: 100, completion_tokens: 100 })).toBeUndefined();
    expect(estimateNeurons('toString', { prompt_tokens: 100, completion_tokens: 100 })).toBeUndefined();
    expect(estimateNeurons('@cf/baai/bge-m3', { prompt_tokens: -5, completion_tokens: Number.NaN })).toBe(0);
  });
});
