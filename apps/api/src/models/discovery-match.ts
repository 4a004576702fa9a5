import type { RouteState } from '#contracts';
import type { ModelIdRules } from '../providers/provider-declaration.ts';

/**
 * Pure matching rules of live model discovery: how a provider's model list is indexed and how
 * a catalog route's upstream id is looked up in it. No I/O here, so the rules are unit-tested
 * on their own.
 */

/** `org/model:suffix` → `org/model`; ids without an `org/` part are left alone. */
export function stripProviderSuffix(id: string): string {
  const slash = id.lastIndexOf('/');
  const colon = id.lastIndexOf(':');
  return slash >= 0 && colon > slash ? id.slice(0, colon) : id;
}

/**
 * The form in which two ids are compared for one provider: trimmed, lower-case (hub-style ids
 * are case-insensitive upstream, and the catalog's spelling often differs from the list's:
 * `openai/GPT-OSS-120B` vs `openai/gpt-oss-120b`), and without a policy suffix where the
 * provider's declaration says its ids carry one (HuggingFace's). `rules` is undefined for
 * providers that declare none, operators' upstreams included.
 */
export function comparableId(rules: ModelIdRules | undefined, id: string): string {
  const trimmed = id.trim();
  const base = rules?.policySuffix ? stripProviderSuffix(trimmed) : trimmed;
  return base.toLowerCase();
}

/** Indexes a fetched model list for lookups with `routeState`. */
export function indexModelList(rules: ModelIdRules | undefined, ids: readonly string[]): ReadonlySet<string> {
  return new Set(ids.map((id) => comparableId(rules, id)));
}

/** `unknown` without a list; otherwise whether the list has the route's upstream id. */
export function routeState(rules: ModelIdRules | undefined, list: ReadonlySet<string> | null | undefined, upstreamModel: string): RouteState {
  if (!list) return 'unknown';
  return list.has(comparableId(rules, upstreamModel)) ? 'confirmed' : 'missing';
}

/** Whether routing may use a route, as far as discovery is concerned. */
export function isRoutable(state: RouteState, pinned: boolean): boolean {
  return state !== 'missing' || pinned;
}
