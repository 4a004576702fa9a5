import type { CatalogModel } from '#contracts';

/** The size in a model id (`-70b`, `8x7b`), to keep a too-long request on a model of the same size. */
const sizeOf = (id: string) => /(\d+x)?\d+(\.\d+)?b\b/i.exec(id)?.[0].toLowerCase();

/**
 * Chat models of the catalog whose context is larger than `model`'s, best first: the same family,
 * then the same size, then the smallest context that is larger. None when `model`'s context is
 * not known.
 */
export function largerContext(model: CatalogModel, all: readonly CatalogModel[]): CatalogModel[] {
  const own = model.context_length;
  if (own === undefined) return [];
  const family = (m: CatalogModel) => m.family ?? m.owned_by;
  const rank = (m: CatalogModel) => [family(m) === family(model) ? 0 : 1, sizeOf(m.id) === sizeOf(model.id) ? 0 : 1, m.context_length!];
  return all
    .filter((m) => m.id !== model.id && m.category === model.category && m.context_length !== undefined && m.context_length > own)
    .map((m) => ({ m, r: rank(m) }))
    .sort((a, b) => a.r[0]! - b.r[0]! || a.r[1]! - b.r[1]! || a.r[2]! - b.r[2]!)
    .map(({ m }) => m);
}
