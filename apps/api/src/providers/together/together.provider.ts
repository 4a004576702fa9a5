import type { ProviderDeclaration } from '../provider-declaration.ts';

export const TOGETHER: ProviderDeclaration = {
  id: 'together',
  envPrefix: 'TOGETHER',
  adapter: async () => new (await import('./together.adapter.ts')).TogetherAdapter(TOGETHER),
};
