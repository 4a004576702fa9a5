import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { ApiError } from '../common/api-error.ts';
import { CatalogService } from '../models/catalog.service.ts';
import type { CustomUpstreamConfig } from '../providers/custom/custom-upstreams.ts';
import { UpstreamError } from '../providers/provider-adapter.ts';
import { ProviderRegistry, type ProviderState, type ProviderView } from '../providers/provider-registry.service.ts';
import { ProviderSettingsService } from '../providers/provider-settings.service.ts';
import { UpstreamHttp } from '../providers/upstream-http.ts';
import { ProviderHealthService } from '../health/provider-health.service.ts';
import type { ProviderCheck } from '../health/provider-probe.ts';
import { AdminGuard } from './admin-auth.guard.ts';
import { AddKeyDto, UpdateProviderDto, UpstreamDto } from './providers-admin.dto.ts';

export interface ProviderDetail extends ProviderView {
  /** How many catalog models route to this provider. */
  models: number;
  /** The latest scheduled or on-demand health probe, if any. */
  lastCheck: ProviderCheck | null;
  /** For operator-defined upstreams: where they are defined and their model map. */
  upstream: { source: 'file' | 'console'; models: Record<string, string>; ownedBy: string | null } | null;
}

export interface KeyTestResult {
  ok: boolean;
  latencyMs: number;
  probe: 'models' | 'chat';
  error: string | null;
}

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
      upstream: upstream ? { source: upstream.source ?? 'file', models: upstream.models, ownedBy: upstream.ownedBy ?? null } : null,
    };
  }

  @Get('providers')
  list(): ProviderDetail[] {
    return this.registry.all().map((p) => this.detail(p));
  }

  @Get('providers/:name')
  get(@Param('name') name: string): ProviderDetail {
    return this.detail(this.settings.provider(name));
  }

  @Post('providers/:name/toggle')
  @HttpCode(200)
  async toggle(@Param('name') name: string): Promise<ProviderDetail> {
    return this.detail(await this.settings.toggle(name));
  }

  /** Probes the provider now (the seed's health button); the result is stored with the scheduled ones. */
  @Post('providers/:name/health')
  @HttpCode(200)
  async check(@Param('name') name: string): Promise<ProviderDetail> {
    const p = this.settings.provider(name);
    await this.health.check(p.name);
    return this.detail(p);
  }

  @Patch('providers/:name')
  async update(@Param('name') name: string, @Body() dto: UpdateProviderDto): Promise<ProviderDetail> {
    if (dto.extra && Object.values(dto.extra).some((v) => typeof v !== 'string')) {
      throw ApiError.badRequest("Invalid value for 'extra': values must be strings.", 'extra', 'invalid_value');
    }
    return this.detail(await this.settings.update(name, dto));
  }

  @Post('providers/:name/keys')
  async addKey(@Param('name') name: string, @Body() dto: AddKeyDto): Promise<ProviderDetail> {
    await this.settings.addKey(name, dto.key, dto.label);
    return this.detail(this.settings.provider(name));
  }

  @Delete('providers/:name/keys/:id')
  @HttpCode(204)
  async removeKey(@Param('name') name: string, @Param('id') id: string): Promise<void> {
    await this.settings.removeKey(name, id);
  }

  /** Tries one key for real: the provider's model list, or a one-token chat when it has none. */
  @Post('providers/:name/keys/:id/test')
  @HttpCode(200)
  async testKey(@Param('name') name: string, @Param('id') id: string): Promise<KeyTestResult> {
    const p = this.settings.provider(name);
    const key = p.keys.get(id);
    if (!key) throw new ApiError(404, `Provider ${p.name} has no key \`${id}\`.`, 'not_found_error', 'key_not_found', 'id');
    const route = this.catalog
      .all()
      .flatMap((m) => m.routes.filter((r) => this.registry.find(r.provider) === p && m.category !== 'image' && m.category !== 'audio'))[0];
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
      const message = err instanceof UpstreamError ? err.message : (err as Error).message;
      return { ok: false, latencyMs: Math.round(performance.now() - started), probe, error: message };
    }
  }

  @Get('upstreams')
  upstreams(): ProviderDetail[] {
    return this.registry
      .all()
      .filter((p) => p.custom)
      .map((p) => this.detail(p));
  }

  @Post('upstreams')
  async createUpstream(@Body() dto: UpstreamDto): Promise<ProviderDetail> {
    return this.detail(await this.settings.saveUpstream(this.toConfig(dto), true));
  }

  @Patch('upstreams/:name')
  async updateUpstream(@Param('name') name: string, @Body() dto: UpstreamDto): Promise<ProviderDetail> {
    if (dto.name.toLowerCase() !== name.toLowerCase())
      throw ApiError.badRequest('Renaming an upstream is not supported; create a new one.', 'name', 'invalid_value');
    return this.detail(await this.settings.saveUpstream(this.toConfig(dto), false));
  }

  @Delete('upstreams/:name')
  @HttpCode(204)
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
      source: 'console',
    };
  }
}
