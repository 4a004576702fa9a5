/** The model catalog as stored in catalog/models.json and served by the API. */

export const MODEL_CATEGORIES = ['chat', 'reasoning', 'code', 'vision', 'image', 'audio', 'embedding', 'speech-to-text'] as const;
export type ModelCategory = (typeof MODEL_CATEGORIES)[number];

/**
 * Sampling fields that OpenAI's chat API lacks but open-model hosts (vLLM, TGI, llama.cpp, Ollama)
 * take. Clients send them (the Anthropic front door maps `top_k`); a provider gets only those it
 * declares, an operator's upstream only those its definition lists (the console offers this list).
 * Other unknown fields still pass through as the client sent them.
 */
export const EXTRA_SAMPLING_PARAMS = [
  'top_k',
  'min_p',
  'top_a',
  'typical_p',
  'tfs_z',
  'repetition_penalty',
  'length_penalty',
  'min_tokens',
  'mirostat',
  'mirostat_tau',
  'mirostat_eta',
] as const;
export type ExtraSamplingParam = (typeof EXTRA_SAMPLING_PARAMS)[number];

export interface CatalogRoute {
  /** Provider name: a built-in one or an operator-defined upstream. */
  provider: string;
  /** The model id the provider expects. */
  upstream_model: string;
  /**
   * Whether this route takes image input; absent means the model's `vision`. Set `false` for a
   * provider that serves the model without its image input.
   */
  vision?: boolean;
  /** Keep routing here even when the provider's live model list does not show the upstream id. */
  pinned?: boolean;
}

export interface CatalogModel {
  id: string;
  label: string;
  /** The model's maker, served as `owned_by`. */
  owned_by: string;
  category: ModelCategory;
  /** Whether requests may carry image parts (vision models, and chat models that accept images). */
  vision?: boolean;
  /**
   * The longest prompt and answer together, in tokens, when known. A request an upstream finds too
   * long (context_length_exceeded) goes to a catalog model with a larger one, if there is one.
   */
  context_length?: number;
  /** Models of one family (`llama`, `qwen`…) are preferred for each other; absent means `owned_by`. */
  family?: string;
  /** Embedding models: the length of every vector; an answer with another length is a failed attempt. */
  dimensions?: number;
  routes: CatalogRoute[];
  /**
   * Added by discovery (自动发现): a provider listed it and the catalog lacked it. It leaves when
   * no provider with auto-add lists it any more, unless the operator promotes it to a curated entry.
   */
  discovered?: boolean;
}

/** An operator-defined alias: requests for ids matching `pattern` (`*` globs) are served by catalog model `model`. */
export interface ModelAlias {
  pattern: string;
  model: string;
}

/**
 * `GET/PUT/DELETE /api/aliases`. `aliases`: in effect, most specific first (an exact catalog id
 * always wins over them); `defaults`: from MODEL_ALIASES and the catalog file; `source`:
 * `console` when an edit from the console replaces the defaults.
 */
export interface ModelAliasList {
  aliases: ModelAlias[];
  defaults: ModelAlias[];
  source: 'config' | 'console';
}

/** `PUT /api/aliases`: the whole alias map the console keeps in place of the defaults. */
export interface SetModelAliasesRequest {
  /** Pattern (`*` globs, up to 128 characters) → catalog model id; at most 200. */
  aliases: Record<string, string>;
}

/**
 * What live discovery knows about one route: `confirmed` (the provider's model list has the
 * upstream id), `missing` (the list was fetched and the id is not in it), `unknown` (no list yet:
 * never fetched, every fetch failed, or the provider cannot list its models).
 */
export type RouteState = 'confirmed' | 'missing' | 'unknown';

/** Where a pin comes from: the catalog's `pinned: true`, or the operator at run time. */
export type PinSource = 'catalog' | 'operator';

export interface DiscoveredRoute {
  provider: string;
  upstream_model: string;
  state: RouteState;
  /** Pinned routes are routed to even when `missing`. */
  pinned: boolean;
  pinnedBy: PinSource | null;
  /** When the model list that decided `state` was fetched (epoch ms); null while `unknown`. */
  checkedAt: number | null;
  /** Whether routing may use this route as far as discovery is concerned (not missing, or pinned). */
  routable: boolean;
}

export interface ModelDiscovery {
  model: string;
  routes: DiscoveredRoute[];
}

/** One provider's model-list fetches. */
export interface ProviderDiscovery {
  provider: string;
  /** Last fetch attempt (epoch ms); null when never tried. */
  fetchedAt: number | null;
  /** Whether the last attempt got a list; null when never tried. */
  ok: boolean | null;
  /** Why the last attempt failed. */
  error: string | null;
  /** Size of the last list fetched (kept when a later fetch fails); null when none yet. */
  modelCount: number | null;
  /** When that list was fetched: the route states are based on it. */
  listedAt: number | null;
  /** Why this provider is not fetched now (disabled, unconfigured, cannot list models), or null. */
  skipped: string | null;
  /** A fetch is under way. */
  refreshing: boolean;
}

export interface DiscoverySnapshot {
  /** Minutes between scheduled refreshes; 0 when only on demand. */
  intervalMinutes: number;
  providers: ProviderDiscovery[];
  models: ModelDiscovery[];
}

/** A route whose discovery state changed with one refresh. */
export interface RouteStateChange {
  model: string;
  upstream_model: string;
  from: RouteState;
  to: RouteState;
}

/** What one on-demand or scheduled refresh did for one provider. */
export interface DiscoveryRefreshResult extends ProviderDiscovery {
  /** Whether a fetch was attempted (false when skipped). */
  attempted: boolean;
  /** Chat routes of this provider by state, after the refresh. */
  routes: Record<RouteState, number>;
  changed: RouteStateChange[];
}

/** What an `auto` model serves: chat-like requests (chat, responses, messages) or images. */
export type AutoModelKind = 'chat' | 'image';

/**
 * A virtual model (`auto`, `auto-coder`…): each request is served by the best usable catalog model
 * of its ordered preference list that can honour the request (tools, image input, JSON output,
 * context length), failing over to the next one before the first byte.
 */
export interface AutoModel {
  /** The id clients send; never a catalog model's id. */
  id: string;
  kind: AutoModelKind;
  /** Catalog model ids, most preferred first. */
  models: string[];
  /** After the list: any other catalog model of the kind, fastest first. */
  others: boolean;
  /** Only models that take image input. */
  vision: boolean;
  /** A line for people (the console, `/v1/models` users). */
  description?: string;
}

/**
 * `GET/PUT/DELETE /api/auto-models`. `models`: in effect; `defaults`: the built-in ones with the
 * catalog file's `auto_models:` over them; `source`: `console` when the console's list replaces them.
 */
export interface AutoModelList {
  models: AutoModel[];
  defaults: AutoModel[];
  source: 'config' | 'console';
}

/** `PUT /api/auto-models`: the whole list of virtual models the console keeps in place of the defaults. */
export interface SetAutoModelsRequest {
  models: AutoModel[];
}

/** One provider's auto-add setting: whether models its list has and the catalog lacks are added. */
export interface DiscoveryAutoAdd {
  provider: string;
  enabled: boolean;
  /** `console` when set there, else `config` (DISCOVERY_AUTO_ADD). */
  source: 'config' | 'console';
  /** How many catalog models its list adds now. */
  added: number;
}

/** `GET /api/discovery/auto-add` and `PUT /api/discovery/auto-add/:provider`. */
export interface DiscoveryAutoAddList {
  providers: DiscoveryAutoAdd[];
}

/** `PUT /api/discovery/auto-add/:provider`: null (or absent) forgets the console's setting (DISCOVERY_AUTO_ADD applies again). */
export interface SetDiscoveryAutoAddRequest {
  enabled?: boolean | null;
}
