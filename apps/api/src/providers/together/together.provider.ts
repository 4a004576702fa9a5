import type { ProviderDeclaration } from '../provider-declaration.ts';

export const TOGETHER: ProviderDeclaration = {
  id: 'together',
  envPrefix: 'TOGETHER',
  // Its chat-completions reference documents these three beyond OpenAI's fields.
  samplingParams: ['top_k', 'min_p', 'repetition_penalty'],
  adapter: async () => new (await import('./together.adapter.ts')).TogetherAdapter(TOGETHER),
};
