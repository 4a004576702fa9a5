/** The model catalog as stored in catalog/models.json and served by the API. */

export const MODEL_CATEGORIES = ['chat', 'reasoning', 'code', 'vision', 'image', 'audio'] as const;
export type ModelCategory = (typeof MODEL_CATEGORIES)[number];

/** Names of the built-in providers, as clients spell them in the `provider` field. */
export const BUILTIN_PROVIDERS = ['PollinationsAI', 'DeepInfra', 'Together', 'HuggingFace', 'CloudflareAI'] as const;
export type BuiltinProviderName = (typeof BUILTIN_PROVIDERS)[number];

export interface CatalogRoute {
  /** Provider name: a built-in one or an operator-defined upstream. */
  provider: string;
  /** The model id the provider expects. */
  upstream_model: string;
}

export interface CatalogModel {
  id: string;
  label: string;
  /** The model's maker, served as `owned_by`. */
  owned_by: string;
  category: ModelCategory;
  /** Whether requests may carry image parts (vision models, and chat models that accept images). */
  vision?: boolean;
  routes: CatalogRoute[];
}
