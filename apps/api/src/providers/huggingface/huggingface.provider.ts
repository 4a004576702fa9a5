import type { ProviderDeclaration } from '../provider-declaration.ts';

export const HUGGINGFACE: ProviderDeclaration = {
  id: 'huggingface',
  envPrefix: 'HUGGINGFACE',
  // The router takes `org/model:novita` (pin one inference provider) or `org/model:fastest`,
  // while `/v1/models` lists `org/model`.
  modelIds: { policySuffix: true },
  // The router's chat-completion spec is OpenAI's fields only (no top_k…), so none are declared.
  adapter: async () => new (await import('./huggingface.adapter.ts')).HuggingFaceAdapter(HUGGINGFACE),
};
