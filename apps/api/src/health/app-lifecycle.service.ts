import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';

/**
 * Where the application is in its life, for the readiness probe: not ready until Nest has
 * initialised every module, and not ready again from the first step of shutdown. With
 * SHUTDOWN_GRACE_MS the shutdown then waits that long, still serving, so that a load
 * balancer polling /health/ready stops sending traffic before the server closes.
 */
@Injectable()
export class AppLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('Lifecycle');
  private initialised = false;
  private shuttingDown = false;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get isInitialised(): boolean {
    return this.initialised;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  onApplicationBootstrap(): void {
    this.initialised = true;
  }

  /** onModuleDestroy is the first hook of Nest's shutdown sequence (before beforeApplicationShutdown). */
  async onModuleDestroy(): Promise<void> {
    this.shuttingDown = true;
    const grace = this.config.health.shutdownGraceMs;
    if (grace > 0) {
      this.log.log(`Shutting down: /health/ready answers 503; closing in ${grace} ms`);
      await sleep(grace);
    }
  }
}
