import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult, type HealthIndicatorFunction } from '@nestjs/terminus';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiJsonResponse, DOC_TAGS, schemaRef } from '../openapi/decorators.ts';
import { truncate } from '../events/record-bounds.ts';
import { STORAGE, type Storage } from '../storage/storage.ts';
import { AppLifecycle } from '../lifecycle/app-lifecycle.service.ts';
import { ProviderHealthService } from './provider-health.service.ts';
import { within } from '../common/within.ts';

/** A storage round trip slower than this counts as unreachable. */
const STORAGE_TIMEOUT_MS = 3_000;

/** API document: 503 answers carry the same report, the failing indicators under `error` (Terminus' own description is turned off). */
const unavailable = (description: string) => ApiResponse({ status: 503, description, content: { 'application/json': { schema: schemaRef('HealthReport') } } });

/**
 * Public health endpoints, in Terminus' shape (`{status, info, error, details}`):
 * - `/health`: storage and a summary of the providers; 503 when storage is down or no provider
 *   is enabled and configured, `degraded` when some of the pool cannot serve.
 * - `/health/live`: the process answers; touches nothing else.
 * - `/health/ready`: the application initialised and not shutting down (503 from the first step
 *   of shutdown on). Storage never makes it fail: /v1 keeps answering while the store is away,
 *   and a storage check here would pull every replica out of the load balancer at once (Redis
 *   in cluster mode). With the embedded store it does report, as `degraded`, a store that cannot
 *   take a write (full or read-only volume), which nothing else would show until data is lost.
 */
@ApiTags(DOC_TAGS.health)
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(STORAGE) private readonly storage: Storage,
    private readonly providers: ProviderHealthService,
    private readonly lifecycle: AppLifecycle,
  ) {}

  @Get()
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({
    summary: '整体健康状况',
    description:
      '存储是否可达，以及提供商概况。三种状态：`ok`：存储可写，对话、图像、音频都有能用的模型，每个已启用的提供商都能用；`degraded`（200）：对话、图像、音频中某一类没有能用的模型，或某个已启用的提供商现在不能用（缺少密钥，`details.providers.problems` 写明要设置的环境变量；熔断冷却中；最近一次健康检查失败），或内置 SQLite 存储无法写入；down（503，`status: error`）：存储不可达，或没有任何已启用且已配置的提供商（所有请求都会失败）。`details.providers.capabilities` 给出每一类的模型数与能用的模型数。就绪检查 `/health/ready` 不看提供商：缺少密钥时重启无济于事，而添加密钥的管理控制台必须保持可达。不需要认证。',
  })
  @ApiJsonResponse('HealthReport', '`ok` 或 `degraded`（原因见 `details.providers.message` 与 `problems`、`details.storage`）。')
  @unavailable('down：存储不可达，或没有任何已启用且已配置的提供商（`status: error`，失败的检查在 `error` 中）。')
  overall(@Res({ passthrough: true }) res: Response): Promise<HealthCheckResult> {
    return this.run(res, [this.storageCheck(), () => this.providersCheck()]);
  }

  @Get('live')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({
    summary: '存活检查',
    description: '进程能应答即为存活，不检查其他任何东西；关闭过程中也返回 200。适合作为容器的 liveness 探针。不需要认证。',
  })
  @ApiJsonResponse('HealthReport', '进程存活。')
  live(): HealthCheckResult {
    // Not through HealthCheckService: liveness stays 200 while the application shuts down.
    const proc = this.indicators.check('process').up({ pid: process.pid, uptimeSeconds: Math.floor(process.uptime()) });
    return { status: 'ok', info: proc, error: {}, details: proc };
  }

  @Get('ready')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({
    summary: '就绪检查',
    description:
      '应用已完成初始化且未在关闭时就绪；从开始关闭的那一刻起返回 503（`status: shutting_down`），负载均衡据此摘除流量。存储不会让它失败：存储（集群模式下的 Redis）暂时不可用时 `/v1` 照常服务，若因此返回 503 会让所有副本同时被摘除。使用内置 SQLite 存储时，若存储无法写入（磁盘已满、只读），返回 200 但 `status` 为 `degraded`，`details.storage` 说明原因。适合作为 readiness 探针。不需要认证。',
  })
  @ApiJsonResponse('HealthReport', '就绪。')
  @unavailable('未就绪：仍在启动，或正在关闭（`status: shutting_down`）。')
  async ready(@Res({ passthrough: true }) res: Response): Promise<HealthCheckResult> {
    const checks: HealthIndicatorFunction[] = [() => this.appCheck()];
    if (this.storage.kind === 'sqlite') checks.push(() => this.writableCheck());
    const result = await this.run(res, checks);
    if (this.lifecycle.isShuttingDown) {
      res.status(503);
      return { ...result, status: 'shutting_down' };
    }
    return result;
  }

  /** Renders a failed check in Terminus' own shape, with its 503, rather than as an OpenAI error. */
  private async run(res: Response, indicators: HealthIndicatorFunction[]): Promise<HealthCheckResult> {
    try {
      return await this.health.check(indicators);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      res.status(503);
      return err.getResponse() as HealthCheckResult;
    }
  }

  /** Down when the store cannot be read (503); an embedded store that reads but cannot take writes is degraded. */
  private storageCheck(): HealthIndicatorFunction {
    return async () => {
      const read = await this.indicators
        .check('storage')
        .attempt(async () => {
          await this.storage.settings.get('health', 'ping');
          return { kind: this.storage.kind };
        })
        .withTimeout(STORAGE_TIMEOUT_MS);
      return read.storage.status === 'up' && this.storage.kind === 'sqlite' ? this.writableCheck() : read;
    };
  }

  /** Degraded, never down: the gateway still answers /v1 without a writable store; the operator must fix the volume. */
  private async writableCheck() {
    const storage = this.indicators.check('storage');
    try {
      await within(STORAGE_TIMEOUT_MS, this.storage.checkWritable());
      return storage.up({ kind: this.storage.kind, writable: true });
    } catch (err) {
      const message = `the store cannot take writes: ${truncate((err as Error)?.message ?? String(err), 300)}`;
      return storage.degraded({ kind: this.storage.kind, writable: false, message });
    }
  }

  private appCheck() {
    const app = this.indicators.check('app');
    if (this.lifecycle.isShuttingDown) return app.down({ message: 'shutting down' });
    if (!this.lifecycle.isInitialised) return app.down({ message: 'starting' });
    return app.up();
  }

  /**
   * Down when no provider is enabled and configured (every request would fail); degraded when one
   * of chat, image or audio has no model that can be served, or an enabled provider cannot serve
   * (a key missing, cooling down) or failed its last check. Only /health says so: readiness does
   * not, since a restart brings no key, and the console, where keys are added, must stay reachable.
   */
  private providersCheck() {
    const summary = this.providers.summary();
    const providers = this.indicators.check('providers');
    if (summary.configured === 0) {
      return providers.down({ ...summary, message: 'no provider can serve requests: none is both enabled and configured (see problems)' });
    }
    const missing = Object.entries(summary.capabilities)
      .filter(([, c]) => c.models > 0 && c.available === 0)
      .map(([name]) => name);
    if (missing.length) return providers.degraded({ ...summary, message: `no model can be served for: ${missing.join(', ')}` });
    if (summary.problems.length)
      return providers.degraded({ ...summary, message: `${summary.problems.length} provider(s) cannot serve or failed their last check` });
    return providers.up(summary);
  }
}
