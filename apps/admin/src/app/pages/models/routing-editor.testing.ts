import type { ModelRouting } from '#contracts';

/** A model's routing as the gateway answers it: three routes, the providers' settings, not forced. */
export function routing(over: Partial<ModelRouting> = {}): ModelRouting {
  return {
    model: 'llama-3.3-70b',
    strategy: 'random',
    custom: false,
    forced: null,
    updatedAt: null,
    routes: [
      { provider: 'DeepInfra', upstream_model: 'meta/llama', weight: 1, position: null, providerWeight: 1, providerPriority: 1, overridden: false },
      { provider: 'Together', upstream_model: 'meta/llama-t', weight: 2, position: null, providerWeight: 2, providerPriority: null, overridden: false },
      { provider: 'HuggingFace', upstream_model: 'meta/llama-h', weight: 1, position: null, providerWeight: 1, providerPriority: null, overridden: false },
    ],
    ...over,
  };
}
