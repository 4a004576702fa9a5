import type { ProviderDeclaration } from '../provider-declaration.ts';

export const DEEPINFRA: ProviderDeclaration = {
  id: 'deepinfra',
  envPrefix: 'DEEPINFRA',
  adapter: async () => new (await import('./deepinfra.adapter.ts')).DeepInfraAdapter(DEEPINFRA),
};
