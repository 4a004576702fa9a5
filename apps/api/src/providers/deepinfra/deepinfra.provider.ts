import type { ProviderDeclaration } from '../provider-declaration.ts';

export const DEEPINFRA: ProviderDeclaration = {
  id: 'deepinfra',
  envPrefix: 'DEEPINFRA',
  // Its OpenAI chat endpoint's reference documents these three beyond OpenAI's fields.
  samplingParams: ['top_k', 'min_p', 'repetition_penalty'],
  adapter: async () => new (await import('./deepinfra.adapter.ts')).DeepInfraAdapter(DEEPINFRA),
};
