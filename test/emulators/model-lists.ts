import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isRecord } from './types.ts';
import type { ProviderId } from './types.ts';

export type ModelLists = Record<ProviderId, readonly string[]>;

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The repo's own catalog wins over the seed's once it exists; both share one shape. */
export const CATALOG_CANDIDATES: readonly string[] = [`${REPO_ROOT}catalog/models.json`, `${REPO_ROOT}vendor/seed-catalog/seed-models.json`];

const CATALOG_PROVIDER_NAMES: Record<string, ProviderId> = {
  pollinationsai: 'pollinations',
  pollinations: 'pollinations',
  deepinfra: 'deepinfra',
  together: 'together',
  togetherai: 'together',
  huggingface: 'huggingface',
  cloudflareai: 'cloudflare',
  cloudflare: 'cloudflare',
  // The seed's scraped mirror served these ids; its role now belongs to custom upstreams.
  freegptmirror: 'custom',
  custom: 'custom',
};

const EXTRA_MODELS: ModelLists = {
  pollinations: [
    'openai',
    'openai-fast',
    'openai-large',
    'deepseek-reasoning',
    'llamascout',
    'mistral-small',
    'qwen-3-coder',
    'flux',
    'kontext',
    'gptimage',
    'turbo',
    'openai-audio',
  ],
  // Image models each provider serves today, whether or not the editable catalog routes to them.
  deepinfra: ['black-forest-labs/FLUX-1-schnell', 'black-forest-labs/FLUX-1-dev', 'stabilityai/sdxl-turbo'],
  together: ['black-forest-labs/FLUX.1-schnell', 'black-forest-labs/FLUX.1-dev'],
  huggingface: ['black-forest-labs/FLUX.1-schnell', 'black-forest-labs/FLUX.1-dev', 'stabilityai/stable-diffusion-xl-base-1.0'],
  cloudflare: ['@cf/meta/llama-3.3-70b-instruct-fp8-fast', '@cf/black-forest-labs/flux-1-schnell'],
  custom: ['llama3.2', 'qwen2.5:7b', 'gpt-4o-mini'],
};

export function loadDefaultModelLists(candidates: readonly string[] = CATALOG_CANDIDATES): ModelLists {
  const file = candidates.find((p) => existsSync(p));
  const routes = file ? catalogRoutes(JSON.parse(readFileSync(file, 'utf8'))) : [];
  const lists: Record<ProviderId, Set<string>> = {
    pollinations: new Set(),
    deepinfra: new Set(),
    together: new Set(),
    huggingface: new Set(),
    cloudflare: new Set(),
    custom: new Set(),
  };
  for (const route of routes) lists[route.provider].add(route.upstreamModel);
  for (const [provider, ids] of Object.entries(EXTRA_MODELS) as [ProviderId, readonly string[]][]) {
    for (const id of ids) lists[provider].add(id);
  }
  return {
    pollinations: [...lists.pollinations],
    deepinfra: [...lists.deepinfra],
    together: [...lists.together],
    huggingface: [...lists.huggingface],
    cloudflare: [...lists.cloudflare],
    custom: [...lists.custom],
  };
}

interface CatalogRoute {
  provider: ProviderId;
  upstreamModel: string;
}

function catalogRoutes(catalog: unknown): CatalogRoute[] {
  if (!isRecord(catalog) || !Array.isArray(catalog.models)) return [];
  const out: CatalogRoute[] = [];
  for (const model of catalog.models) {
    if (!isRecord(model) || !Array.isArray(model.routes)) continue;
    for (const route of model.routes) {
      if (!isRecord(route) || typeof route.provider !== 'string' || typeof route.upstream_model !== 'string') continue;
      const provider = CATALOG_PROVIDER_NAMES[route.provider.toLowerCase().replace(/[^a-z]/g, '')];
      if (provider) out.push({ provider, upstreamModel: route.upstream_model });
    }
  }
  return out;
}
