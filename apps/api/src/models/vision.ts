import type { CatalogModel, CatalogRoute } from '#contracts';
import type { ProviderAdapter } from '../providers/provider-adapter.ts';

/** The skip reason of a route that cannot take a request with image parts. */
export const CANNOT_TAKE_IMAGES = 'cannot take images';

/** Whether the model itself accepts image input: its `vision` flag, else its category. */
export function modelTakesImages(model: CatalogModel): boolean {
  return model.vision ?? model.category === 'vision';
}

/**
 * Whether one route can take image content parts: the route's own `vision` flag wins over the
 * model's, and an adapter that cannot send images (`acceptsImageInput: false`) never can.
 */
export function routeTakesImages(model: CatalogModel, route: CatalogRoute, adapter: Pick<ProviderAdapter, 'acceptsImageInput'> | undefined): boolean {
  if (adapter?.acceptsImageInput === false) return false;
  return route.vision ?? modelTakesImages(model);
}
