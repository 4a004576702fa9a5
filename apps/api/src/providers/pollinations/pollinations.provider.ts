import type { ProviderDeclaration } from '../provider-declaration.ts';

export const POLLINATIONS: ProviderDeclaration = {
  id: 'pollinations',
  envPrefix: 'POLLINATIONS',
  adapter: async () => new (await import('./pollinations.adapter.ts')).PollinationsAdapter(POLLINATIONS),
};
