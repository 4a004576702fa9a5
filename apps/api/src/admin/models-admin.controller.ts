import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsObject, ValidateIf } from 'class-validator';
import {
  MODEL_CATEGORIES,
  type AutoModel,
  type AutoModelList,
  type CatalogModel,
  type DiscoveryAutoAddList,
  type DiscoveryRefreshResult,
  type ModelAliasList,
  type ModelCategory,
  type ModelDiscovery,
  type SetAutoModelsRequest,
  type SetDiscoveryAutoAddRequest,
  type SetModelAliasesRequest,
} from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { ApiAdminAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import { MAX_AUTO_MODELS, MAX_AUTO_PREFERENCES } from '../models/auto-models.ts';
import { AutoModelsService } from '../models/auto-models.service.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { DiscoveredModelsService } from '../models/discovered-models.service.ts';
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

/** PUT /api/auto-models: each entry is checked by AutoModelsService (400 naming each bad one). */
export class SetAutoModelsDto implements SetAutoModelsRequest {
  @ApiProperty({
    type: 'array',
    maxItems: MAX_AUTO_MODELS,
    items: {
      type: 'object',
      required: ['id', 'models'],
      properties: {
        id: { type: 'string', description: '客户端请求的虚拟模型 id（如 `auto-coder`），不能与目录中的模型 id 相同。' },
        kind: { type: 'string', enum: ['chat', 'image'], description: '`chat`（对话、Responses、Messages）或 `image`（图片生成），默认 `chat`。' },
        models: { type: 'array', maxItems: MAX_AUTO_PREFERENCES, items: { type: 'string' }, description: '按偏好排列的目录模型 id。' },
        others: { type: 'boolean', description: '列表之后再用同类的其他目录模型（按延迟）。' },
        vision: { type: 'boolean', description: '只用能看图的模型。' },
        description: { type: 'string', description: '说明。' },
      },
    },
    description: `整张虚拟模型表（最多 ${MAX_AUTO_MODELS} 个），取代默认的。`,
    example: [{ id: 'auto-coder', kind: 'chat', models: ['qwen-2.5-coder-32b', 'deepseek-v3'], others: false, vision: false }],
  })
  @IsArray()
  models!: AutoModel[];
}

/** PUT /api/discovery/auto-add/:provider. */
export class SetDiscoveryAutoAddDto implements SetDiscoveryAutoAddRequest {
  @ApiProperty({
    type: 'boolean',
    nullable: true,
    required: false,
    description: '`true` 开启、`false` 关闭；`null`（或不写）删除管理台的设置，恢复 `DISCOVERY_AUTO_ADD` 的值。',
  })
  @ValidateIf((_o, v) => v !== undefined && v !== null)
  @IsBoolean()
  enabled?: boolean | null;
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
    private readonly autoModels: AutoModelsService,
    private readonly discovered: DiscoveredModelsService,
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
      autoModels: this.autoModels.all(),
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

  @Get('auto-models')
  @ApiOperation({
    summary: '虚拟模型（auto）',
    description:
      '生效中的虚拟模型（`auto`、`auto-coder` 等），以及默认的（内置的，加上 `CATALOG_FILE` 的 `auto_models:`）。每个请求由偏好列表中现在可用、能满足请求（工具、图片输入、JSON 输出、上下文长度）的最好的目录模型回答，先看健康度与配额余量，再看偏好顺序与延迟；一个模型的所有路由在首字节前失败时换下一个模型。',
  })
  @ApiJsonResponse('AutoModelList', '虚拟模型。')
  @ApiErrors([401])
  autoModelList(): AutoModelList {
    return this.autoModels.view();
  }

  @Put('auto-models')
  @ApiOperation({
    summary: '设置虚拟模型',
    description: '用整张表取代默认的虚拟模型，保存在存储中，重启后仍然有效。偏好列表中的模型必须在目录中、且与 `kind` 相符。',
  })
  @ApiJsonResponse('AutoModelList', '保存后的虚拟模型。')
  @ApiErrors([400, 401], { 400: 'id 与目录模型重名、重复，模型不存在或类别不符，超过数量上限（`code: invalid_auto_model`，消息中列出每一条）。' })
  setAutoModels(@Body() dto: SetAutoModelsDto): Promise<AutoModelList> {
    return this.autoModels.set(dto.models);
  }

  @Delete('auto-models')
  @ApiOperation({ summary: '恢复默认虚拟模型', description: '删除管理台保存的虚拟模型表，恢复使用内置的与 `CATALOG_FILE` 中的。' })
  @ApiJsonResponse('AutoModelList', '恢复后的虚拟模型。')
  @ApiErrors([401])
  resetAutoModels(): Promise<AutoModelList> {
    return this.autoModels.reset();
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

  @Get('discovery/auto-add')
  @ApiOperation({
    summary: '自动添加发现的模型',
    description: '每个提供商是否自动把模型列表中有、模型目录中没有的模型加入目录（标为“自动发现”，从列表消失后自动下架），设置来源，以及现在加入了多少个。',
  })
  @ApiJsonResponse('DiscoveryAutoAddList', '每个提供商的自动添加设置。')
  @ApiErrors([401])
  autoAdd(): DiscoveryAutoAddList {
    return this.discovered.view();
  }

  @Put('discovery/auto-add/:provider')
  @ApiOperation({
    summary: '设置自动添加',
    description: '为一个提供商开启或关闭自动添加（保存在存储中，重启后仍有效）；`null` 恢复 `DISCOVERY_AUTO_ADD` 的值。',
  })
  @ROUTE_PROVIDER
  @ApiJsonResponse('DiscoveryAutoAddList', '每个提供商的自动添加设置。')
  @ApiErrors([400, 401, 404], { 400: '`enabled` 不是 true、false 或 null。', 404: '提供商不存在。' })
  setAutoAdd(@Param('provider') provider: string, @Body() dto: SetDiscoveryAutoAddDto): Promise<DiscoveryAutoAddList> {
    return this.discovered.setEnabled(provider, dto.enabled ?? null);
  }

  @Post('models/:id/promote')
  @HttpCode(200)
  @ApiOperation({
    summary: '转为正式模型',
    description: '把一个自动发现的模型转为正式的目录条目（保存在存储中）：重启后仍在，提供商的列表不再有它时也不下架（路由标为 `missing`）。',
  })
  @MODEL_ID
  @ApiJsonResponse('AdminModel', '转正后的模型。')
  @ApiErrors([400, 401, 404], { 400: '模型不是自动发现的（`code: model_not_discovered`）。', 404: '模型不存在。' })
  async promote(@Param('id') id: string): Promise<AdminModel> {
    const model = await this.discovered.promote(id);
    return this.view(model, this.discovery.model(model.id));
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
