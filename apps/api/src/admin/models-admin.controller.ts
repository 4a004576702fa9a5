import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import { IsObject } from 'class-validator';
import {
  MODEL_CATEGORIES,
  type CatalogModel,
  type DiscoveryRefreshResult,
  type ModelAliasList,
  type ModelCategory,
  type ModelDiscovery,
  type SetModelAliasesRequest,
} from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { ApiAdminAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { DiscoveryService } from '../models/discovery.service.ts';
import { ModelAvailabilityService } from '../models/model-availability.ts';
import { MAX_ALIASES, MAX_ALIAS_CHARS } from '../models/model-aliases.ts';
import { ModelAliasesService } from '../models/model-aliases.service.ts';
import { AdminGuard } from '../auth/admin-auth.guard.ts';
import type { AdminModel, AdminModelList } from '#contracts';

export type { AdminModel, AdminModelList };

/** The console's category chips, in the seed's order and words. */
const CATEGORY_LABELS: Record<ModelCategory, string> = {
  chat: '对话',
  reasoning: '推理',
  code: '代码',
  vision: '视觉',
  image: '图像生成',
  audio: '音频',
  embedding: '嵌入',
  'speech-to-text': '语音识别',
};

const MODEL_ID = ApiParam({ name: 'id', description: '模型 id（见 `GET /api/models`）。', schema: { type: 'string' } });
/** PUT /api/aliases: the patterns and targets are checked by the catalog (400 naming each bad one). */
export class SetModelAliasesDto implements SetModelAliasesRequest {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', minLength: 1, maxLength: MAX_ALIAS_CHARS },
    maxProperties: MAX_ALIASES,
    description: `请求的模型 id（可用 \`*\` 通配，最长 ${MAX_ALIAS_CHARS} 个字符）→ 目录中的模型 id；最多 ${MAX_ALIASES} 条。`,
    example: { 'claude-*': 'qwen3-coder', 'gpt-5*': 'deepseek-v3' },
  })
  @IsObject()
  aliases!: Record<string, string>;
}

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
    private readonly modelAliases: ModelAliasesService,
  ) {}

  private view(model: CatalogModel, found: ModelDiscovery | undefined): AdminModel {
    const routes =
      found?.routes ?? model.routes.map((r) => ({ ...r, state: 'unknown' as const, pinned: false, pinnedBy: null, checkedAt: null, routable: true }));
    const { routes: _routes, ...rest } = model;
    const aliases = this.catalog.aliases().flatMap((a) => (a.model === model.id ? [a.pattern] : []));
    return { ...rest, routes, routable: routes.some((r) => r.routable), ...this.availability.of(model), aliases };
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
      aliases: this.catalog.aliases(),
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

  @Get('aliases')
  @ApiOperation({
    summary: '模型别名',
    description:
      '生效中的模型别名（最具体的在前：字面字符最多者优先），以及来自 `MODEL_ALIASES` 与 `CATALOG_FILE` 的默认别名。请求的模型 id 与目录中的模型 id 相同时（不区分大小写）总是用目录中的模型，不看别名。',
  })
  @ApiJsonResponse('ModelAliasList', '模型别名。')
  @ApiErrors([401])
  aliases(): ModelAliasList {
    return this.modelAliases.view();
  }

  @Put('aliases')
  @ApiOperation({
    summary: '设置模型别名',
    description: '用整张别名表取代默认别名（`MODEL_ALIASES` 与 `CATALOG_FILE` 中的），保存在存储中，重启后仍然有效。目标必须是目录中的模型。',
  })
  @ApiJsonResponse('ModelAliasList', '保存后的模型别名。')
  @ApiErrors([400, 401], { 400: '别名格式不对、超过数量或长度上限，或指向不存在的模型（`code: invalid_alias`，消息中列出每一条）。' })
  setAliases(@Body() dto: SetModelAliasesDto): Promise<ModelAliasList> {
    return this.modelAliases.set(dto.aliases);
  }

  @Delete('aliases')
  @ApiOperation({ summary: '恢复默认模型别名', description: '删除管理台保存的别名表，恢复使用 `MODEL_ALIASES` 与 `CATALOG_FILE` 中的别名。' })
  @ApiJsonResponse('ModelAliasList', '恢复后的模型别名。')
  @ApiErrors([401])
  resetAliases(): Promise<ModelAliasList> {
    return this.modelAliases.reset();
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
