import type { ExtraSamplingParam } from '#contracts';

/**
 * What a built-in provider says about itself to the rest of the gateway: the environment it reads
 * and how its model ids compare. Plain data in the provider's own folder, so that config (which
 * runs before Nest starts), the registry and discovery read it instead of naming providers.
 * Nothing here imports the adapter: `adapter()` loads it only when the Nest container asks.
 */
export interface ProviderDeclaration {
  /** Stable lower-case id, the key of `config.providers` and of stored state: 'cloudflare'. */
  readonly id: string;
  /** `<P>` of `<P>_BASE_URL`, `<P>_API_KEY`, `<P>_ENABLED`, `<P>_PROXY`, `<P>_PRIORITY`. */
  readonly envPrefix: string;
  /**
   * More variables whose comma-separated keys join `<P>_API_KEY`'s pool, duplicates dropped. The
   * first one is the name "needs an API key (…)" quotes, when there is one (Cloudflare calls its
   * keys API tokens).
   */
  readonly keyAliases?: readonly string[];
  /** Settings beyond base URL and keys, each read from its own variable into `extra[key]` (trimmed, blank = unset). */
  readonly extraSettings?: readonly ExtraSetting[];
  /** How discovery compares this provider's model ids with its model list. */
  readonly modelIds?: ModelIdRules;
  /**
   * The sampling fields beyond OpenAI's (`EXTRA_SAMPLING_PARAMS`) that this provider's chat API
   * documents; the others are dropped before sending, since strict upstreams answer 400 to a field
   * they do not know. Absent: none.
   */
  readonly samplingParams?: readonly ExtraSamplingParam[];
  /**
   * The adapter (a `ProviderAdapter`), loaded on demand with `import()` from this provider's own
   * folder: config, which reads this declaration before Nest starts, never loads adapter code. Typed
   * loosely on purpose: declarations sit below the providers layer and name none of its types; the
   * providers module checks what it gets.
   */
  readonly adapter: () => Promise<unknown>;
}

export interface ExtraSetting {
  /** The key in `extra` (and in the console's override): 'accountId'. */
  readonly key: string;
  /** The variable it is read from: 'CLOUDFLARE_ACCOUNT_ID'. */
  readonly env: string;
  /** Without it the provider is unconfigured and never tried. */
  readonly required?: boolean;
}

export interface ModelIdRules {
  /**
   * Ids may carry a `:policy` suffix that is not part of the listed id (HuggingFace's router takes
   * `org/model:novita` while `/v1/models` lists `org/model`). Off by default: elsewhere a colon is
   * part of the id itself (Ollama's `qwen2.5:7b` is not `qwen2.5:14b`; OpenRouter lists `…:free`
   * as models of their own).
   */
  readonly policySuffix?: boolean;
}

/** The sampling fields beyond OpenAI's a provider may declare; the list is shared with the console (its upstream form offers it). */
export { EXTRA_SAMPLING_PARAMS, type ExtraSamplingParam } from '#contracts';

/** The per-provider variable suffixes every provider reads, `<P>_<SUFFIX>`. */
export const PROVIDER_ENV_SUFFIXES = ['ENABLED', 'BASE_URL', 'API_KEY', 'PROXY', 'PRIORITY'] as const;

/** Every environment variable one provider reads: the `<P>_*` ones, its key aliases and its extra settings. */
export function providerEnvNames(declaration: ProviderDeclaration): string[] {
  return [
    ...PROVIDER_ENV_SUFFIXES.map((suffix) => `${declaration.envPrefix}_${suffix}`),
    ...(declaration.keyAliases ?? []),
    ...(declaration.extraSettings ?? []).map((s) => s.env),
  ];
}

/** The variable an operator sets for this provider's keys, as messages quote it. */
export function keyEnvName(declaration: ProviderDeclaration): string {
  return declaration.keyAliases?.[0] ?? `${declaration.envPrefix}_API_KEY`;
}

/** The keys of the extra settings without which the provider cannot run. */
export function requiredExtra(declaration: ProviderDeclaration | undefined): string[] {
  return (declaration?.extraSettings ?? []).filter((s) => s.required).map((s) => s.key);
}
