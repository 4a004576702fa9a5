import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { lastValueFrom } from 'rxjs';
import { ApiError } from '../common/api-error.ts';
import { scrubSecrets } from '../common/redact.ts';
import { ApiAdminAuth, ApiEmptyResponse, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { CAPABILITY_OF } from '../models/model-availability.ts';
import { parseSamplingParams, type CustomUpstreamConfig } from '../providers/custom/custom-upstreams.ts';
import { UpstreamError } from '../providers/provider-adapter.ts';
import { ProviderRegistry, type ProviderState } from '../providers/provider-registry.service.ts';
import { ProviderSettingsService } from '../providers/provider-settings.service.ts';
import { UpstreamHttp } from '../providers/upstream-http.ts';
import { ProviderHealthService } from '../health/provider-health.service.ts';
import { AdminGuard } from '../auth/admin-auth.guard.ts';
import { AddKeyDto, UpdateProviderDto, UpstreamDto } from './providers-admin.dto.ts';
import type { ExtraSamplingParam, KeyTestResult, ProviderDetail } from '#contracts';

export type { ProviderDetail, KeyTestResult };

const KEY_TEST_TIMEOUT_MS = 15_000;

function checkModelMap(models: Record<string, string>): Record<string, string> {
  const entries = Object.entries(models);
  if (entries.length === 0) throw ApiError.badRequest("Invalid value for 'models': list at least one model.", 'models', 'invalid_value');
  for (const [id, upstream] of entries) {
    if (!id.trim() || typeof upstream !== 'string' || !upstream.trim()) {
      throw ApiError.badRequest("Invalid value for 'models': map gateway model ids to upstream model ids (non-empty strings).", 'models', 'invalid_value');
    }
  }
  return Object.fromEntries(entries.map(([id, u]) => [id.trim(), u.trim()]));
}

function checkSamplingParams(raw: unknown): ExtraSamplingParam[] {
  const parsed = parseSamplingParams(raw);
  if ('problem' in parsed) throw ApiError.badRequest(`Invalid value for 'samplingParams': ${parsed.problem}.`, 'samplingParams', 'invalid_value');
  return parsed.params;
}

const PROVIDER_NAME = ApiParam({ name: 'name', description: '提供商名字（不区分大小写），如 `DeepInfra`，或自定义上游的名字。', schema: { type: 'string' } });
const UPSTREAM_NAME = ApiParam({ name: 'name', description: '自定义上游的名字（不区分大小写）。', schema: { type: 'string' } });
const KEY_ID = ApiParam({ name: 'id', description: '密钥 id（见提供商详情的 `keys[].id`）。', schema: { type: 'string' } });

@ApiTags(DOC_TAGS.providers)
@ApiAdminAuth()
@Controller('api')
@UseGuards(AdminGuard)
export class ProvidersAdminController {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly settings: ProviderSettingsService,
    private readonly catalog: CatalogService,
    private readonly http: UpstreamHttp,
    private readonly health: ProviderHealthService,
  ) {}

  private detail(p: ProviderState): ProviderDetail {
    const upstream = p.custom ? this.registry.upstream(p.name) : undefined;
    return {
      ...p.view(),
      models: this.catalog.all().filter((m) => m.routes.some((r) => this.registry.find(r.provider) === p)).length,
      lastCheck: this.health.lastCheck(p.name),
      condition: this.health.condition(p.name)!,
      upstream: upstream
        ? { source: upstream.source ?? 'file', models: upstream.models, ownedBy: upstream.ownedBy ?? null, samplingParams: upstream.samplingParams ?? [] }
        : null,
    };
  }

  @Get('providers')
  @ApiOperation({
    summary: '列出提供商',
    description:
      '所有内置提供商与自定义上游：启用状态、能否服务及原因、地址、优先级、熔断器、上游密钥（掩码）及各自的冷却状态、健康度、最近一次健康检查、路由到它的模型数。',
  })
  @ApiJsonResponse('ProviderDetailList', '提供商列表。')
  @ApiErrors([401])
  list(): ProviderDetail[] {
    return this.registry.all().map((p) => this.detail(p));
  }

  @Get('providers/:name')
  @ApiOperation({ summary: '查询提供商', description: '一个提供商的详情（字段同列表）。' })
  @PROVIDER_NAME
  @ApiJsonResponse('ProviderDetail', '提供商详情。')
  @ApiErrors([401, 404], { 404: '提供商不存在。' })
  get(@Param('name') name: string): ProviderDetail {
    return this.detail(this.settings.provider(name));
  }

  @Post('providers/:name/toggle')
  @HttpCode(200)
  @ApiOperation({ summary: '启用 / 停用提供商', description: '在启用与停用之间切换（保存在存储中，重启后仍然有效）。停用的提供商不参与路由。' })
  @PROVIDER_NAME
  @ApiJsonResponse('ProviderDetail', '切换后的提供商详情。')
  @ApiErrors([401, 404], { 404: '提供商不存在。' })
  async toggle(@Param('name') name: string): Promise<ProviderDetail> {
    return this.detail(await this.settings.toggle(name));
  }

  /** Probes the provider now (the seed's health button); the result is stored with the scheduled ones. */
  @Post('providers/:name/health')
  @HttpCode(200)
  @ApiOperation({
    summary: '立即检查提供商健康',
    description: '马上探测这个提供商（模型列表，或没有列表时发一个极短的对话请求）；结果与定时检查一起保存，并体现在返回的 `lastCheck` 中。',
  })
  @PROVIDER_NAME
  @ApiJsonResponse('ProviderDetail', '检查后的提供商详情。')
  @ApiErrors([401, 404], { 404: '提供商不存在。' })
  async check(@Param('name') name: string): Promise<ProviderDetail> {
    const p = this.settings.provider(name);
    await this.health.check(p.name);
    return this.detail(p);
  }

  @Patch('providers/:name')
  @ApiOperation({
    summary: '修改提供商设置',
    description:
      '修改启用状态、上游地址、代理、优先级或提供商专有设置（如 Cloudflare 的 `accountId`）。未给出的字段保持不变；`null` 清除管理台的设置，恢复为环境变量（或默认）的值。' +
      '把上游地址改到另一个主机（协议、主机名或端口不同）时，必须在同一请求的 `key` 中给出新主机的密钥，否则返回 400（`code: key_required_for_new_host`）：' +
      '密钥只发给它所属的主机，原来的密钥（包括环境变量中的）不会发给新主机。只改路径不需要密钥。',
  })
  @PROVIDER_NAME
  @ApiJsonResponse('ProviderDetail', '修改后的提供商详情。')
  @ApiErrors([400, 401, 404], { 400: '包括：改到另一个主机却没有给出新主机的密钥（`code: key_required_for_new_host`）。', 404: '提供商不存在。' })
  async update(@Param('name') name: string, @Body() dto: UpdateProviderDto): Promise<ProviderDetail> {
    if (dto.extra && Object.values(dto.extra).some((v) => typeof v !== 'string')) {
      throw ApiError.badRequest("Invalid value for 'extra': values must be strings.", 'extra', 'invalid_value');
    }
    // Only the settings go into the stored override; the key is stored sealed, on its own.
    const { enabled, baseUrl, proxy, priority, weight, extra, key } = dto;
    const patch = Object.fromEntries(Object.entries({ enabled, baseUrl, proxy, priority, weight, extra }).filter(([, v]) => v !== undefined));
    return this.detail(await this.settings.update(name, patch, key ? { key } : undefined));
  }

  @Post('providers/:name/keys')
  @ApiOperation({
    summary: '添加上游密钥',
    description: '给提供商的密钥池加一个 API 密钥（加密保存在 `DATA_DIR`，与环境变量中的密钥同时生效）。任何接口都不会返回密钥明文。',
  })
  @PROVIDER_NAME
  @ApiJsonResponse('ProviderDetail', '添加后的提供商详情（`keys` 中是新密钥的掩码）。', 201)
  @ApiErrors([400, 401, 404], { 404: '提供商不存在。' })
  async addKey(@Param('name') name: string, @Body() dto: AddKeyDto): Promise<ProviderDetail> {
    await this.settings.addKey(name, dto.key, dto.label);
    return this.detail(this.settings.provider(name));
  }

  @Delete('providers/:name/keys/:id')
  @HttpCode(204)
  @ApiOperation({ summary: '删除上游密钥', description: '删除在管理台添加的密钥。来自环境变量或 `PROVIDERS_FILE` 的密钥只能在那里删除。' })
  @PROVIDER_NAME
  @KEY_ID
  @ApiEmptyResponse('已删除。')
  @ApiErrors([400, 401, 404], { 400: '密钥来自环境变量或 `PROVIDERS_FILE`（`code: key_read_only`）。', 404: '提供商或密钥不存在。' })
  async removeKey(@Param('name') name: string, @Param('id') id: string): Promise<void> {
    await this.settings.removeKey(name, id);
  }

  /** Tries one key for real: the provider's model list, or a one-token chat when it has none. */
  @Post('providers/:name/keys/:id/test')
  @HttpCode(200)
  @ApiOperation({
    summary: '测试上游密钥',
    description: '用这个密钥真实地请求一次提供商（模型列表，或没有列表时发一个只生成 1 个 token 的对话），15 秒超时。不影响密钥的冷却状态。',
  })
  @PROVIDER_NAME
  @KEY_ID
  @ApiJsonResponse('KeyTestResult', '测试结果（失败时 `ok: false` 并给出原因，HTTP 状态仍为 200）。')
  @ApiErrors([401, 404], { 404: '提供商或密钥不存在。' })
  async testKey(@Param('name') name: string, @Param('id') id: string): Promise<KeyTestResult> {
    const p = this.settings.provider(name);
    const key = p.keys.get(id);
    if (!key) throw new ApiError(404, `Provider ${p.name} has no key \`${id}\`.`, 'not_found_error', 'key_not_found', 'id');
    const route = this.catalog.all().flatMap((m) => m.routes.filter((r) => this.registry.find(r.provider) === p && CAPABILITY_OF[m.category] === 'chat'))[0];
    const signal = AbortSignal.timeout(KEY_TEST_TIMEOUT_MS);
    const ctx = { upstreamModel: route?.upstream_model ?? '', baseUrl: p.baseUrl, apiKey: key.value, extra: p.extra, signal, http: this.http, proxy: p.proxy };
    const started = performance.now();
    const probe = p.adapter.listModels ? 'models' : 'chat';
    try {
      if (p.adapter.listModels) await p.adapter.listModels(ctx);
      else {
        await lastValueFrom(
          p.adapter.chat({ model: '', messages: [{ role: 'user', content: 'ping' }], stream: false, params: { max_tokens: 1 }, hasImages: false }, ctx),
        );
      }
      return { ok: true, latencyMs: Math.round(performance.now() - started), probe, error: null };
    } catch (err) {
      // UpstreamErrors are scrubbed where they are made; anything else is scrubbed here.
      const message = err instanceof UpstreamError ? err.message : scrubSecrets(String((err as Error)?.message ?? err));
      return { ok: false, latencyMs: Math.round(performance.now() - started), probe, error: message };
    }
  }

  @Get('upstreams')
  @ApiOperation({ summary: '列出自定义上游', description: '运维人员定义的 OpenAI 兼容上游（来自 `PROVIDERS_FILE` 或管理台），含模型映射。' })
  @ApiJsonResponse('ProviderDetailList', '自定义上游列表。')
  @ApiErrors([401])
  upstreams(): ProviderDetail[] {
    return this.registry
      .all()
      .filter((p) => p.custom)
      .map((p) => this.detail(p));
  }

  @Post('upstreams')
  @ApiOperation({
    summary: '添加自定义上游',
    description:
      '添加一个 OpenAI 兼容上游（如 Ollama、OpenRouter），并把网关模型 id 映射到上游模型 id；映射中的新模型会出现在 `/v1/models` 中。保存在存储中；密钥用“添加上游密钥”接口添加。',
  })
  @ApiJsonResponse('ProviderDetail', '新上游的详情。', 201)
  @ApiErrors([400, 401, 409], { 409: '已有同名的提供商（`code: provider_exists`）。' })
  async createUpstream(@Body() dto: UpstreamDto): Promise<ProviderDetail> {
    return this.detail(await this.settings.saveUpstream(this.toConfig(dto), true, dto.key ? { key: dto.key } : undefined));
  }

  @Patch('upstreams/:name')
  @ApiOperation({
    summary: '修改自定义上游',
    description:
      '整体替换一个在管理台添加的上游的设置（请求体同添加；`name` 必须与路径中的相同，不支持改名）。地址中的账号密码在返回时被隐藏（`****`），原样发回表示不变。' +
      '改到另一个主机且上游有密钥时，必须在 `key` 中给出新主机的密钥（否则 400，`code: key_required_for_new_host`）。',
  })
  @UPSTREAM_NAME
  @ApiJsonResponse('ProviderDetail', '修改后的上游详情。')
  @ApiErrors([400, 401, 404], {
    400: '包括：改名，上游定义在 `PROVIDERS_FILE` 中（`code: upstream_read_only`），或改到另一个主机却没有给出密钥（`code: key_required_for_new_host`）。',
    404: '上游不存在。',
  })
  async updateUpstream(@Param('name') name: string, @Body() dto: UpstreamDto): Promise<ProviderDetail> {
    if (dto.name.toLowerCase() !== name.toLowerCase())
      throw ApiError.badRequest('Renaming an upstream is not supported; create a new one.', 'name', 'invalid_value');
    return this.detail(await this.settings.saveUpstream(this.toConfig(dto), false, dto.key ? { key: dto.key } : undefined));
  }

  @Delete('upstreams/:name')
  @HttpCode(204)
  @ApiOperation({ summary: '删除自定义上游', description: '删除在管理台添加的上游，连同它的密钥与设置。' })
  @UPSTREAM_NAME
  @ApiEmptyResponse('已删除。')
  @ApiErrors([400, 401, 404], { 400: '上游定义在 `PROVIDERS_FILE` 中（`code: upstream_read_only`）。', 404: '上游不存在。' })
  async deleteUpstream(@Param('name') name: string): Promise<void> {
    await this.settings.deleteUpstream(name);
  }

  private toConfig(dto: UpstreamDto): CustomUpstreamConfig {
    return {
      name: dto.name,
      baseUrl: dto.baseUrl.replace(/\/+$/, ''),
      apiKeys: [],
      enabled: dto.enabled ?? true,
      proxy: dto.proxy ?? undefined,
      priority: dto.priority ?? undefined,
      ownedBy: dto.ownedBy,
      models: checkModelMap(dto.models),
      samplingParams: checkSamplingParams(dto.samplingParams),
      source: 'console',
    };
  }
}
