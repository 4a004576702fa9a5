import type { RouteState } from '#contracts';

/**
 * Pure matching rules of live model discovery: how a provider's model list is indexed and how
 * a catalog route's upstream id is looked up in it. No I/O here, so the rules are unit-tested
 * on their own.
 */

/**
 * Providers whose model ids may carry a `:policy` suffix that is not part of the listed id.
 * HuggingFace's router takes `org/model:novita` (pin one inference provider) or
 * `org/model:fastest`, while `/v1/models` lists `org/model`.
 *
 * Only these: elsewhere a colon is part of the id itself (Ollama's `qwen2.5:7b` is not
 * `qwen2.5:14b`; OpenRouter lists `…:free` as models of their own).
 */
const SUFFIXED_PROVIDERS: ReadonlySet<string> = new Set(['huggingface']);

/** `org/model:suffix` → `org/model`; ids without an `org/` part are left alone. */
export function stripProviderSuffix(id: string): string {
  const slash = id.lastIndexOf('/');
  const colon = id.lastIndexOf(':');
  return slash >= 0 && colon > slash ? id.slice(0, colon) : id;
}

/**
 * The form in which two ids are compared for one provider: trimmed, lower-case (hub-style ids
 * are case-insensitive upstream, and the catalog's spelling often differs from the list's:
 * `openai/GPT-OSS-120B` vs `openai/gpt-oss-120b`), and for HuggingFace without its suffix.
 */
export function comparableId(providerId: string, id: string): string {
  const trimmed = id.trim();
  const base = SUFFIXED_PROVIDERS.has(providerId.toLowerCase()) ? stripProviderSuffix(trimmed) : trimmed;
  return base.toLowerCase();
}

/** Indexes a fetched model list for lookups with `routeState`. */
export function indexModelList(providerId: string, ids: readonly string[]): ReadonlySet<string> {
  return new Set(ids.map((id) => comparableId(providerId, id)));
}

/** `unknown` without a list; otherwise whether the list has the route's upstream id. */
export function routeState(providerId: string, list: ReadonlySet<string> | null | undefined, upstreamModel: string): RouteState {
  if (!list) return 'unknown';
  return list.has(comparableId(providerId, upstreamModel)) ? 'confirmed' : 'missing';
}

/** Whether routing may use a route, as far as discovery is concerned. */
export function isRoutable(state: RouteState, pinned: boolean): boolean {
  return state !== 'missing' || pinned;
}
