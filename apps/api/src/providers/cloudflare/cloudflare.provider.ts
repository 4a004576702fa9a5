import type { ProviderDeclaration } from '../provider-declaration.ts';

export const CLOUDFLARE: ProviderDeclaration = {
  id: 'cloudflare',
  envPrefix: 'CLOUDFLARE',
  // Cloudflare calls its keys API tokens; both names are read.
  keyAliases: ['CLOUDFLARE_API_TOKEN'],
  // Every Workers AI URL names the account.
  extraSettings: [{ key: 'accountId', env: 'CLOUDFLARE_ACCOUNT_ID', required: true }],
  // The text-generation models' input schema lists top_k and repetition_penalty (and rejects fields it does not list).
  samplingParams: ['top_k', 'repetition_penalty'],
  adapter: async () => new (await import('./cloudflare.adapter.ts')).CloudflareAdapter(CLOUDFLARE),
};
