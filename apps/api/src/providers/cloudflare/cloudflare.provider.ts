import type { ProviderDeclaration } from '../provider-declaration.ts';

export const CLOUDFLARE: ProviderDeclaration = {
  id: 'cloudflare',
  envPrefix: 'CLOUDFLARE',
  // Cloudflare calls its keys API tokens; both names are read.
  keyAliases: ['CLOUDFLARE_API_TOKEN'],
  // Every Workers AI URL names the account.
  extraSettings: [{ key: 'accountId', env: 'CLOUDFLARE_ACCOUNT_ID', required: true }],
  adapter: async () => new (await import('./cloudflare.adapter.ts')).CloudflareAdapter(CLOUDFLARE),
};
