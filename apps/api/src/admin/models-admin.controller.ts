import { Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { MODEL_CATEGORIES, type CatalogModel, type DiscoveryRefreshResult, type ModelCategory, type ModelDiscovery } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { ApiAdminAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { DiscoveryService } from '../models/discovery.service.ts';
import { ModelAvailabilityService } from '../models/model-availability.ts';
import { AdminGuard } from '../auth/admin-auth.guard.ts';
import type { AdminModel, AdminModelList } from '#contracts';

export type { AdminModel, AdminModelList };

/** The console's category chips, in the seed's order and words. */
const CATEGORY_LABELS: Record<ModelCategory, string> = { chat: '对话', reasoning: '推理', code: '代码', vision: '视觉', image: '图像生成', audio: '音频' };

const MODEL_ID = ApiParam({ name: 'id', description: '模型 id（见 `GET /api/models`）。', schema: { type: 'string' } });
const ROUTE_PROVIDER = ApiParam({ name: 'provider', description: '路由的提供商名字（不区分大小写）。', schema: { type: 'string' } });

@ApiTags(DOC_TAGS.modelsAdmin)
@ApiAdminAuth()
@Controller('api')
@UseGuards(AdminGuard)
export class ModelsAdminController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly discovery: DiscoveryService,
    private readonly availability: ModelAvailabilityService,
  ) {}

  private view(model: CatalogModel, found: ModelDiscovery | undefined): AdminModel {
    const routes =
      found?.routes ?? model.routes.map((r) => ({ ...r, state: 'unknown' as const, pinned: false, pinnedBy: null, checkedAt: null, routable: true }));
    const { routes: _routes, ...rest } = model;
    return { ...rest, routes, routable: routes.some((r) => r.routable), ...this.availability.of(model) };
  }

  /** Every catalog model with its category, routes and each route's discovery state. */
  @Get('models')
  @ApiOperation({
    summary: '模型目录（含路由与发现状态）',
    description:
      '模型目录中的全部模型（可按分类筛选），每个模型的路由及其在提供商模型列表中的状态（`confirmed` / `missing` / `unknown`），模型现在能否使用（`available`，与 `/v1/models` 是否列出一致）及不能使用的原因（`reason`），各分类的数量，以及各提供商最近一次获取模型列表的结果。',
  })
  @ApiQuery({ name: 'category', required: false, enum: MODEL_CATEGORIES, description: '只列出这一分类的模型。' })
  @ApiJsonResponse('AdminModelList', '模型目录。')
  @ApiErrors([400, 401], { 400: '`category` 不是已知分类。' })
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
  @ApiOperation({ summary: '查询单个模型', description: '一个模型的信息、路由及每条路由的发现状态。' })
  @MODEL_ID
  @ApiJsonResponse('AdminModel', '模型。')
  @ApiErrors([401, 404], { 404: '模型不存在。' })
  get(@Param('id') id: string): AdminModel {
    const model = this.catalog.resolve(id);
    if (!model) throw new ApiError(404, `The model \`${id}\` does not exist.`, 'not_found_error', 'model_not_found', 'id');
    return this.view(model, this.discovery.model(model.id));
  }

  /** Fetches the providers' model lists now (all, or one with ?provider=). */
  @Post('discovery/refresh')
  @HttpCode(200)
  @ApiOperation({
    summary: '立即刷新模型发现',
    description: '马上向提供商获取模型列表（全部提供商，或用 `provider` 指定一个），更新每条路由的状态；返回每个提供商的结果与状态变化。',
  })
  @ApiQuery({ name: 'provider', required: false, description: '只刷新这个提供商（名字不区分大小写）。', schema: { type: 'string' } })
  @ApiJsonResponse('DiscoveryRefreshResultList', '每个提供商的刷新结果。')
  @ApiErrors([401, 404], { 404: '提供商不存在。' })
  refresh(@Query('provider') provider?: string): Promise<DiscoveryRefreshResult[]> {
    return this.discovery.refresh(provider);
  }

  /** Keeps routing to a route even when the provider's list does not show it. */
  @Post('models/:id/routes/:provider/pin')
  @HttpCode(200)
  @ApiOperation({ summary: '固定路由', description: '即使提供商的模型列表里没有这个上游模型，也继续路由到它（列表不完整或运维人员更清楚时）。会持久保存。' })
  @MODEL_ID
  @ROUTE_PROVIDER
  @ApiJsonResponse('ModelDiscovery', '模型的各条路由及其状态。')
  @ApiErrors([400, 401, 404], { 400: '该提供商不提供这个模型。', 404: '模型或提供商不存在。' })
  pin(@Param('id') id: string, @Param('provider') provider: string): Promise<ModelDiscovery> {
    return this.discovery.pin(id, provider);
  }

  @Delete('models/:id/routes/:provider/pin')
  @ApiOperation({
    summary: '取消固定路由',
    description: '取消运维人员设置的固定；之后按模型发现的结果决定是否路由到它（模型目录中 `pinned: true` 的固定不受影响）。',
  })
  @MODEL_ID
  @ROUTE_PROVIDER
  @ApiJsonResponse('ModelDiscovery', '模型的各条路由及其状态。')
  @ApiErrors([400, 401, 404], { 400: '该提供商不提供这个模型。', 404: '模型或提供商不存在。' })
  unpin(@Param('id') id: string, @Param('provider') provider: string): Promise<ModelDiscovery> {
    return this.discovery.unpin(id, provider);
  }
}
