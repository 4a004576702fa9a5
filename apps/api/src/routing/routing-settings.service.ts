import { Inject, Injectable, Logger, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { RoutingSettings } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig, type RoutingStrategy } from '../config/app-config.ts';
import { STORAGE, type Storage } from '../storage/storage.ts';

/** Settings namespace and key of the strategy chosen in the console. */
export const ROUTING_NS = 'routing';
export const STRATEGY_KEY = 'strategy';
export const ROUTING_STRATEGIES: readonly RoutingStrategy[] = ['random', 'priority', 'latency'];

const isStrategy = (v: unknown): v is RoutingStrategy => typeof v === 'string' && (ROUTING_STRATEGIES as readonly string[]).includes(v);

/**
 * The routing strategy in force: the one chosen in the console, kept in the settings store (so a
 * restart, and in cluster mode every replica, uses it), else ROUTING_STRATEGY.
 */
@Injectable()
export class RoutingSettingsService implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('Routing');
  private chosen: RoutingStrategy | null = null;
  private changesSub?: Subscription;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    /** Absent in unit tests that build a router by hand: the environment's strategy then. */
    @Optional() @Inject(STORAGE) private readonly storage?: Storage,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.storage) return;
    await this.reload();
    // Another replica chose a strategy ('' after a cluster reconnect: anything may have changed).
    this.changesSub = this.storage.settings.changes.subscribe(({ namespace, key }) => {
      if (namespace === ROUTING_NS && (key === STRATEGY_KEY || key === '')) void this.reload();
    });
  }

  onModuleDestroy(): void {
    this.changesSub?.unsubscribe();
  }

  get strategy(): RoutingStrategy {
    return this.chosen ?? this.config.routingStrategy;
  }

  view(): RoutingSettings {
    return { strategy: this.strategy, source: this.chosen ? 'console' : 'config', default: this.config.routingStrategy };
  }

  /** Stores and applies `strategy` (400 for an unknown one); null goes back to ROUTING_STRATEGY. */
  async set(strategy: unknown): Promise<RoutingSettings> {
    if (strategy !== null && !isStrategy(strategy)) {
      throw ApiError.badRequest(`strategy must be one of ${ROUTING_STRATEGIES.join(', ')}, or null for ROUTING_STRATEGY`, 'strategy', 'invalid_value');
    }
    if (!this.storage) throw new Error('no settings store');
    if (strategy === null) await this.storage.settings.delete(ROUTING_NS, STRATEGY_KEY);
    else await this.storage.settings.set(ROUTING_NS, STRATEGY_KEY, strategy);
    this.chosen = strategy;
    return this.view();
  }

  private async reload(): Promise<void> {
    try {
      const raw = await this.storage!.settings.get<unknown>(ROUTING_NS, STRATEGY_KEY);
      if (raw !== undefined && !isStrategy(raw)) this.log.warn(`the stored routing strategy ${JSON.stringify(raw).slice(0, 100)} is unknown (ignored)`);
      this.chosen = isStrategy(raw) ? raw : null;
    } catch (err) {
      this.log.error(`cannot load the stored routing strategy: ${String((err as Error)?.message ?? err).slice(0, 500)}`);
    }
  }
}
