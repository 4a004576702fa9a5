import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult, type HealthIndicatorFunction } from '@nestjs/terminus';
import type { Response } from 'express';
import { STORAGE, type Storage } from '../storage/storage.ts';
import { AppLifecycle } from './app-lifecycle.service.ts';
import { ProviderHealthService } from './provider-health.service.ts';

/** A storage round trip slower than this counts as unreachable. */
const STORAGE_TIMEOUT_MS = 3_000;

/**
 * Public health endpoints, in Terminus' shape (`{status, info, error, details}`):
 * - `/health`: storage and a summary of the providers; 503 only when storage is down.
 * - `/health/live`: the process answers; touches nothing else.
 * - `/health/ready`: storage reachable and the application initialised; 503 from the first
 *   step of shutdown on.
 */
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
  @HealthCheck()
  overall(@Res({ passthrough: true }) res: Response): Promise<HealthCheckResult> {
    return this.run(res, [this.storageCheck(), () => this.providersCheck()]);
  }

  @Get('live')
  @HealthCheck()
  live(): HealthCheckResult {
    // Not through HealthCheckService: liveness stays 200 while the application shuts down.
    const proc = this.indicators.check('process').up({ pid: process.pid, uptimeSeconds: Math.floor(process.uptime()) });
    return { status: 'ok', info: proc, error: {}, details: proc };
  }

  @Get('ready')
  @HealthCheck()
  async ready(@Res({ passthrough: true }) res: Response): Promise<HealthCheckResult> {
    const result = await this.run(res, [this.storageCheck(), () => this.appCheck()]);
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

  private storageCheck(): HealthIndicatorFunction {
    return this.indicators
      .check('storage')
      .attempt(async () => {
        await this.storage.settings.get('health', 'ping');
        return { kind: this.storage.kind };
      })
      .withTimeout(STORAGE_TIMEOUT_MS);
  }

  private appCheck() {
    const app = this.indicators.check('app');
    if (this.lifecycle.isShuttingDown) return app.down({ message: 'shutting down' });
    if (!this.lifecycle.isInitialised) return app.down({ message: 'starting' });
    return app.up();
  }

  /** Never fails /health: with no provider available the gateway is degraded, not down (a restart would not help). */
  private providersCheck() {
    const summary = this.providers.summary();
    const providers = this.indicators.check('providers');
    return summary.available > 0 ? providers.up(summary) : providers.degraded({ ...summary, message: 'no provider can serve requests right now' });
  }
}
