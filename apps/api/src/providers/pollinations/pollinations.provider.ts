import type { ProviderDeclaration } from '../provider-declaration.ts';

export const POLLINATIONS: ProviderDeclaration = {
  id: 'pollinations',
  envPrefix: 'POLLINATIONS',
  // Its /v1/chat/completions documents OpenAI's fields only, so no extra sampling fields are declared.
  adapter: async () => new (await import('./pollinations.adapter.ts')).PollinationsAdapter(POLLINATIONS),
};
