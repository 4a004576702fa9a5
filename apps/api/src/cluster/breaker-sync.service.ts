import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { ProviderRegistry, type BreakerOpening } from '../providers/provider-registry.service.ts';
import { CLUSTER_BUS, type ClusterBus } from './cluster-bus.ts';

export const BREAKER_TOPIC = 'breaker';

function parseOpening(raw: string): BreakerOpening | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== 'object' || v === null) return undefined;
    const { provider, key, until, reason } = v as Record<string, unknown>;
    if (typeof provider !== 'string' || (key !== null && typeof key !== 'string') || typeof until !== 'number' || !Number.isFinite(until)) return undefined;
    return { provider, key, until, reason: typeof reason === 'string' ? reason : null };
  } catch {
    return undefined;
  }
}

/**
 * Shares breaker openings between replicas, so that a provider (or key) cooling down after
 * failures one replica saw is skipped by all of them, without Redis on the request path:
 *
 * - when a provider's or key's breaker opens here, the opening (provider id, key id, until,
 *   reason) is queued and published on the cluster bus right after the request's turn
 *   (setImmediate), retained until it ends so that replicas starting or reconnecting
 *   meanwhile get it too;
 * - an opening from another replica is applied with CircuitBreaker.forceOpen: the breaker
 *   stays open at least as long; a longer local opening is kept.
 *
 * Only openings travel. Closing happens on each replica by itself: after `until` every replica
 * lets its own half-open probe through (so up to one probe per replica), and a failed probe
 * publishes the next, longer opening. Counts of consecutive failures, and a key's "invalid"
 * mark after repeated auth failures, stay per replica. `until` is wall-clock time: replica
 * clocks must agree (NTP) to within the precision wanted for cooldowns.
 *
 * In the embedded mode the bus goes nowhere and this does nothing.
 */
@Injectable()
export class BreakerSync implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('BreakerSync');
  private readonly subscriptions: Subscription[] = [];
  private readonly pending = new Map<string, BreakerOpening>();
  private scheduled = false;
  private failing = false;
  /** Publishes in flight (for tests and shutdown). */
  private publishing: Promise<void> = Promise.resolve();

  constructor(
    private readonly registry: ProviderRegistry,
    @Inject(CLUSTER_BUS) private readonly bus: ClusterBus,
  ) {}

  /** After every module's init: stored keys are loaded, so retained key openings find their key. */
  onApplicationBootstrap(): void {
    this.subscriptions.push(
      this.registry.breakerOpened.subscribe((opening) => this.queue(opening)),
      this.bus.messages(BREAKER_TOPIC).subscribe({
        next: (message) => this.apply(message),
        error: (err: Error) => this.logger.warn(`Breaker openings from other replicas are not received: ${err.message}`),
      }),
    );
  }

  onModuleDestroy(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }

  /** Resolves once what is queued now has been published (or has failed to). */
  async flushed(): Promise<void> {
    while (this.scheduled) await new Promise((resolve) => setImmediate(resolve));
    await this.publishing;
  }

  /** Applies an opening another replica published; returns whether a breaker changed. */
  apply(message: string): boolean {
    const opening = parseOpening(message);
    if (!opening) {
      this.logger.warn(`Ignoring a malformed breaker message: ${message.slice(0, 200)}`);
      return false;
    }
    const provider = this.registry.find(opening.provider);
    if (!provider) return false;
    if (opening.key === null) return provider.breaker.forceOpen(opening.until, opening.reason);
    return provider.keys.get(opening.key)?.breaker.forceOpen(opening.until, opening.reason) ?? false;
  }

  /** Runs on the request path: only remembers the opening and schedules the publish. */
  private queue(opening: BreakerOpening): void {
    const id = `${opening.provider}\n${opening.key ?? ''}`;
    const earlier = this.pending.get(id);
    if (!earlier || earlier.until < opening.until) this.pending.set(id, opening);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = [...this.pending.entries()];
      this.pending.clear();
      this.publishing = this.publishing.then(() => this.publish(batch));
    });
  }

  private async publish(batch: Array<[string, BreakerOpening]>): Promise<void> {
    const results = await Promise.allSettled(
      batch.map(([id, opening]) => {
        const ms = opening.until - Date.now();
        return ms > 0 ? this.bus.publish(BREAKER_TOPIC, JSON.stringify(opening), { id, ms }) : Promise.resolve();
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed && !this.failing) {
      this.failing = true;
      this.logger.warn(`Could not tell the other replicas about a breaker opening (${(failed.reason as Error)?.message}); they find out by themselves`);
    } else if (!failed && this.failing) {
      this.failing = false;
      this.logger.log('Breaker openings reach the other replicas again');
    }
  }
}
