import { Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  MODEL_CATEGORIES,
  type CatalogModel,
  type DiscoveredRoute,
  type DiscoveryRefreshResult,
  type ModelCategory,
  type ModelDiscovery,
  type ProviderDiscovery,
} from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { DiscoveryService } from '../models/discovery.service.ts';
import { AdminGuard } from './admin-auth.guard.ts';

/** The console's category chips, in the seed's order and words. */
const CATEGORY_LABELS: Record<ModelCategory, string> = { chat: '对话', reasoning: '推理', code: '代码', vision: '视觉', image: '图像生成', audio: '音频' };

export interface AdminModel extends Omit<CatalogModel, 'routes'> {
  routes: DiscoveredRoute[];
  /** Whether some route can serve it right now as far as discovery knows. */
  routable: boolean;
}

export interface AdminModelList {
  total: number;
  categories: Array<{ id: ModelCategory; label: string; count: number }>;
  models: AdminModel[];
  discovery: { intervalMinutes: number; providers: ProviderDiscovery[] };
}

@Controller('api')
@UseGuards(AdminGuard)
export class ModelsAdminController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly discovery: DiscoveryService,
  ) {}

  private view(model: CatalogModel, found: ModelDiscovery | undefined): AdminModel {
    const routes =
      found?.routes ?? model.routes.map((r) => ({ ...r, state: 'unknown' as const, pinned: false, pinnedBy: null, checkedAt: null, routable: true }));
    const { routes: _routes, ...rest } = model;
    return { ...rest, routes, routable: routes.some((r) => r.routable) };
  }

  /** Every catalog model with its category, routes and each route's discovery state. */
  @Get('models')
  list(@Query('category') category?: string): AdminModelList {
    if (category !== undefined && !MODEL_CATEGORIES.includes(category as ModelCategory)) {
      throw ApiError.badRequest(`Invalid value for 'category': must be one of ${MODEL_CATEGORIES.join(', ')}.`, 'category', 'invalid_value');
    }
    const snapshot = this.discovery.snapshot();
    const byId = new Map(snapshot.models.map((m) => [m.model, m]));
    const all = this.catalog.all();
    return {
      total: all.length,
      categories: MODEL_CATEGORIES.map((id) => ({ id, label: CATEGORY_LABELS[id], count: all.filter((m) => m.category === id).length })),
      models: all.filter((m) => !category || m.category === category).map((m) => this.view(m, byId.get(m.id))),
      discovery: { intervalMinutes: snapshot.intervalMinutes, providers: snapshot.providers },
    };
  }

  @Get('models/:id')
  get(@Param('id') id: string): AdminModel {
    const model = this.catalog.resolve(id);
    if (!model) throw new ApiError(404, `The model \`${id}\` does not exist.`, 'not_found_error', 'model_not_found', 'id');
    return this.view(model, this.discovery.model(model.id));
  }

  /** Fetches the providers' model lists now (all, or one with ?provider=). */
  @Post('discovery/refresh')
  @HttpCode(200)
  refresh(@Query('provider') provider?: string): Promise<DiscoveryRefreshResult[]> {
    return this.discovery.refresh(provider);
  }

  /** Keeps routing to a route even when the provider's list does not show it. */
  @Post('models/:id/routes/:provider/pin')
  @HttpCode(200)
  pin(@Param('id') id: string, @Param('provider') provider: string): Promise<ModelDiscovery> {
    return this.discovery.pin(id, provider);
  }

  @Delete('models/:id/routes/:provider/pin')
  unpin(@Param('id') id: string, @Param('provider') provider: string): Promise<ModelDiscovery> {
    return this.discovery.unpin(id, provider);
  }
}
