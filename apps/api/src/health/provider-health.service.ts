import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ApiError } from '../common/api-error.ts';
import { scrubSecrets } from '../common/redact.ts';
import { APP_CONFIG, checkDeadlineMs, type AppConfig } from '../config/app-config.ts';
import { truncate } from '../events/record-bounds.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { ModelAvailabilityService, type Capability } from '../models/model-availability.ts';
import { ProviderRegistry, type ProviderState } from '../providers/provider-registry.service.ts';
import { UpstreamHttp } from '../providers/upstream-http.ts';
import { STORAGE, type HealthCheckResult, type Storage } from '../storage/storage.ts';
import type { ProviderCondition } from '#contracts';
import { providerCondition } from './provider-condition.ts';
import { probeProvider, type ProbeModel, type ProviderCheck } from './provider-probe.ts';

/** Names in the SchedulerRegistry. */
export const HEALTH_CHECK_INTERVAL_NAME = 'provider-health-checks';
export const HEALTH_CHECK_FIRST_RUN_NAME = 'provider-health-checks:first';

/** The first scheduled run comes this soon after start (or after one interval, if shorter). */
const FIRST_RUN_DELAY_MS = 5_000;
/** History older than this is deleted, at most once a day. */
const HISTORY_RETENTION_MS = 30 * 86_400_000;
const PURGE_EVERY_MS = 86_400_000;

export type ProvidersSummary = {
  /** Every provider the pool knows. */
  total: number;
  /** Enabled and configured: what the scheduled checks probe. */
  configured: number;
  /** Would be tried by routing right now (enabled, configured, not cooling down). */
  available: number;
  /** Configured providers whose condition (live traffic and checks together) is failing. */
  unhealthy: number;
  /** Epoch ms of the newest check, or null before the first one. */
  lastCheckAt: number | null;
  /** Per capability: the catalog's models, and how many of them can be served now (as `/v1/models` lists them). */
  capabilities: Record<Capability, { models: number; available: number }>;
  /** Enabled providers that cannot serve now, or whose last check failed, and why (at most MAX_PROBLEMS). */
  problems: Array<{ provider: string; reason: string }>;
};

/**
 * How costly one token of a model probably is, from its id alone (the catalog has no prices):
 * its parameter count ("8b", "70B", "8x7b") when the id says, small-model words next, unknown
 * sizes last. Only orders the candidates for the probe.
 */
export function probeCost(upstreamModel: string): number {
  const id = upstreamModel.toLowerCase();
  const sizes = [...id.matchAll(/(?:^|[^a-z0-9.])(?:(\d+)x)?(\d+(?:\.\d+)?)b(?![a-z])/g)].map((m) => Number(m[1] ?? 1) * Number(m[2]));
  if (sizes.length) return Math.min(...sizes);
  if (/(nano|tiny|mini|small|lite|flash|haiku)/.test(id)) return 10;
  return 1000;
}

/** Bounds on the problems /health lists: a PROVIDERS_FILE may define many upstreams. */
const MAX_PROBLEMS = 20;
const MAX_PROBLEM_CHARS = 200;

/**
 * Scheduled and on-demand provider health checks. The latest result per provider is kept in
 * memory (seeded from the stored history at start); every result is appended to the history.
 */
@Injectable()
export class ProviderHealthService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('HealthChecks');
  /** By lower-cased provider name, so that a re-created custom upstream keeps its entry. */
  private readonly latest = new Map<string, ProviderCheck>();
  /** When each provider with its own probe interval was last probed by a scheduled run (by adapter id). */
  private readonly lastScheduled = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<ProviderCheck>>();
  private run: Promise<ProviderCheck[]> | null = null;
  private readonly stopping = new AbortController();
  private lastPurgeAt = 0;

  constructor(
    private readonly registry: ProviderRegistry,
    private readonly http: UpstreamHttp,
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly catalog: CatalogService,
    private readonly availability: ModelAvailabilityService,
  ) {}

  onApplicationBootstrap(): void {
    void this.loadLatest();
    const every = this.config.health.checkIntervalMs;
    if (every <= 0) return;
    const first = setTimeout(
      () => {
        this.scheduler.deleteTimeout(HEALTH_CHECK_FIRST_RUN_NAME);
        this.tick();
        const interval = setInterval(() => this.tick(), every);
        interval.unref();
        this.scheduler.addInterval(HEALTH_CHECK_INTERVAL_NAME, interval);
      },
      Math.min(every, FIRST_RUN_DELAY_MS),
    );
    first.unref();
    this.scheduler.addTimeout(HEALTH_CHECK_FIRST_RUN_NAME, first);
  }

  async onModuleDestroy(): Promise<void> {
    for (const name of [HEALTH_CHECK_FIRST_RUN_NAME, HEALTH_CHECK_INTERVAL_NAME]) {
      if (this.scheduler.doesExist('timeout', name)) this.scheduler.deleteTimeout(name);
      if (this.scheduler.doesExist('interval', name)) this.scheduler.deleteInterval(name);
    }
    this.stopping.abort();
    await Promise.allSettled([this.run, ...this.inFlight.values()]);
  }

  /**
   * Checks one provider now (by name or id, case-insensitively), whatever its state: a
   * disabled provider is probed too, an unconfigured one answers without a request.
   * Joins a check of the same provider already in flight.
   */
  async check(name: string): Promise<ProviderCheck> {
    const provider = this.registry.find(name);
    if (!provider) throw new ApiError(404, `Unknown provider \`${name}\`.`, 'not_found_error', 'unknown_provider', 'provider');
    return this.checkState(provider);
  }

  /**
   * Checks every enabled, configured provider in parallel, but those whose probe is off
   * (HEALTH_PROBE / HEALTH_PROBE_PROVIDERS: a precious free quota); joins a run already in flight.
   */
  checkAll(scheduled = false): Promise<ProviderCheck[]> {
    this.run ??= (async () => {
      try {
        const targets = this.registry
          .all()
          .filter((p) => p.enabled && !p.missingConfig() && this.probeSetting(p).mode !== 'off' && (!scheduled || this.due(p)));
        const results = await Promise.all(targets.map((p) => this.checkState(p)));
        await this.purgeOldHistory();
        return results;
      } finally {
        this.run = null;
      }
    })();
    return this.run;
  }

  /** Whether a scheduled or requested run of every provider is going on. */
  get running(): boolean {
    return this.run !== null;
  }

  /** The latest check of a provider (by name or id), or null when it has never been checked. */
  lastCheck(name: string): ProviderCheck | null {
    const provider = this.registry.find(name);
    return this.latest.get((provider?.name ?? name).toLowerCase()) ?? null;
  }

  /** Stored checks of one provider, newest first. */
  async history(name: string, limit: number): Promise<{ provider: string; items: HealthCheckResult[] }> {
    const provider = this.registry.find(name);
    if (!provider) throw new ApiError(404, `Unknown provider \`${name}\`.`, 'not_found_error', 'unknown_provider', 'provider');
    const items = await this.storage.health.history(provider.name, limit);
    // Checks stored before errors were scrubbed (or before a key was known) are scrubbed on the way out.
    return { provider: provider.name, items: items.map((i) => (i.error ? { ...i, error: scrubSecrets(i.error) } : i)) };
  }

  /** Live traffic and the last check together (see providerCondition), by name or id. */
  condition(name: string): ProviderCondition | null {
    const provider = this.registry.find(name);
    return provider ? providerCondition(provider, this.lastCheck(provider.name)) : null;
  }

  summary(): ProvidersSummary {
    const all = this.registry.all();
    const configured = all.filter((p) => p.enabled && !p.missingConfig());
    const checks = configured.map((p) => this.latest.get(p.name.toLowerCase())).filter((c): c is ProviderCheck => c !== undefined);
    return {
      total: all.length,
      configured: configured.length,
      available: all.filter((p) => p.status().status === 'available').length,
      unhealthy: configured.filter((p) => this.condition(p.name)?.state === 'failing').length,
      lastCheckAt: checks.length ? Math.max(...checks.map((c) => c.checkedAt)) : null,
      capabilities: this.availability.byCapability(),
      problems: this.problems(all),
    };
  }

  /** Why each enabled provider cannot serve now (no key, cooling down) or may not (its last check failed). */
  private problems(all: ProviderState[]): ProvidersSummary['problems'] {
    const problems: ProvidersSummary['problems'] = [];
    for (const provider of all) {
      if (!provider.enabled) continue;
      const { status, reason } = provider.status();
      const check = this.latest.get(provider.name.toLowerCase());
      const condition = providerCondition(provider, check ?? null);
      const why =
        status !== 'available'
          ? (reason ?? status)
          : condition.state === 'failing' && condition.source === 'live'
            ? `recent requests failed: ${condition.reason ?? 'unknown error'}`
            : check && !check.ok
              ? `last health check failed: ${check.error ?? 'unknown error'}`
              : null;
      if (why) problems.push({ provider: provider.name, reason: truncate(scrubSecrets(why), MAX_PROBLEM_CHARS) });
    }
    return problems.slice(0, MAX_PROBLEMS);
  }

  private tick(): void {
    if (this.run) {
      this.log.warn('The previous health check run is still going; this one is skipped.');
      return;
    }
    this.checkAll(true).catch((err: unknown) => this.log.error(`Health check run failed: ${err instanceof Error ? err.message : String(err)}`));
  }

  /**
   * Whether a scheduled run probes this provider: always, unless HEALTH_CHECK_INTERVAL_PROVIDERS
   * gives it its own interval, which runs on the scheduled ticks (so never more often than
   * HEALTH_CHECK_INTERVAL): a free quota need not pay for a check every few minutes.
   */
  private due(provider: ProviderState): boolean {
    const intervals = this.config.providerQuota.probeIntervalMs;
    const every = intervals[provider.name.toLowerCase()] ?? intervals[provider.adapter.id.toLowerCase()];
    if (every === undefined) return true;
    const now = Date.now();
    const last = this.lastScheduled.get(provider.adapter.id);
    // Half a tick of slack: ticks drift by milliseconds, and a 1 h interval on 1 h ticks must not skip every other one.
    if (last !== undefined && now - last + this.config.health.checkIntervalMs / 2 < every) return false;
    this.lastScheduled.set(provider.adapter.id, now);
    return true;
  }

  private checkState(provider: ProviderState): Promise<ProviderCheck> {
    const id = provider.name.toLowerCase();
    let pending = this.inFlight.get(id);
    if (!pending) {
      pending = this.probe(provider).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, pending);
    }
    return pending;
  }

  private async probe(provider: ProviderState): Promise<ProviderCheck> {
    const result = await probeProvider(provider, {
      http: this.http,
      // The whole check, every key tried: a trickling upstream never trips the idle timeout.
      timeoutMs: checkDeadlineMs(this.config),
      authCooldownMs: this.config.breaker.authCooldownMs,
      // A provider whose scheduled probe is off is still probed when asked for by name: by chat.
      mode: this.probeSetting(provider).mode === 'models' ? 'models' : 'chat',
      chatModel: (p) => this.chatModel(p),
      signal: this.stopping.signal,
      minHeadroom: this.config.providerQuota.probeMinHeadroom,
    });
    if (result.inconclusive || this.stopping.signal.aborted) return result;
    this.remember(result);
    await this.storage.health
      .append([
        {
          provider: result.provider,
          checkedAt: result.checkedAt,
          ok: result.ok,
          latencyMs: result.latencyMs,
          probe: result.probe,
          model: result.model ?? null,
          error: result.error,
        },
      ])
      .catch((err: unknown) => this.log.warn(`Could not store the health check of ${result.provider}: ${err instanceof Error ? err.message : String(err)}`));
    return result;
  }

  private remember(result: ProviderCheck): void {
    const id = result.provider.toLowerCase();
    const before = this.latest.get(id);
    this.latest.set(id, result);
    const problems = result.keyProblems?.map((k) => `${k.key}: ${k.error}`).join('; ');
    if (!result.ok && before?.ok !== false) this.log.warn(`${result.provider} is unhealthy: ${result.error}`);
    else if (result.ok && before?.ok === false) this.log.log(`${result.provider} is healthy again (${result.latencyMs} ms)`);
    if (problems) this.log.warn(`${result.provider}: health check found key problems: ${problems}`);
  }

  /** HEALTH_PROBE_PROVIDERS' entry for this provider (by name or id), else HEALTH_PROBE. */
  private probeSetting(provider: ProviderState): { mode: 'chat' | 'models' | 'off'; model?: string } {
    const { probe, probeByProvider } = this.config.health;
    return probeByProvider[provider.name.toLowerCase()] ?? probeByProvider[provider.adapter.id.toLowerCase()] ?? { mode: probe };
  }

  /**
   * The chat probe's model: the one HEALTH_PROBE_PROVIDERS names, else the cheapest chat model
   * this provider serves (see probeCost), else the cheapest text model; none for a provider
   * that only makes images or speech (it is probed by its model list, or not at all).
   */
  private chatModel(provider: ProviderState): ProbeModel | undefined {
    const serves = (categories: readonly string[]) =>
      this.catalog
        .all()
        .filter((m) => categories.includes(m.category))
        .flatMap((m) => m.routes.filter((r) => this.registry.find(r.provider) === provider).map((r) => ({ id: m.id, upstreamModel: r.upstream_model })));
    const chosen = this.probeSetting(provider).model;
    if (chosen) {
      const model = this.catalog.all().find((m) => m.id === chosen);
      const route = model?.routes.find((r) => this.registry.find(r.provider) === provider);
      // A model this provider does not serve is sent as the upstream id itself.
      return { id: chosen, upstreamModel: route?.upstream_model ?? chosen };
    }
    const cheapest = (models: ProbeModel[]) => [...models].sort((a, b) => probeCost(a.upstreamModel) - probeCost(b.upstreamModel))[0];
    return cheapest(serves(['chat'])) ?? cheapest(serves(['code', 'vision', 'reasoning']));
  }

  /** After a restart the console still shows each provider's last known check. */
  private async loadLatest(): Promise<void> {
    await Promise.all(
      this.registry.all().map(async (p) => {
        try {
          const [newest] = await this.storage.health.history(p.name, 1);
          const id = p.name.toLowerCase();
          if (newest && !this.latest.has(id)) {
            const probe = newest.probe === 'models' || newest.probe === 'chat' ? newest.probe : 'none';
            const error = newest.error && scrubSecrets(newest.error);
            const model = newest.model ? { model: newest.model } : {};
            this.latest.set(id, { provider: p.name, ok: newest.ok, latencyMs: newest.latencyMs, checkedAt: newest.checkedAt, error, probe, ...model });
          }
        } catch (err) {
          this.log.warn(`Could not read the health history of ${p.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }),
    );
  }

  private async purgeOldHistory(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPurgeAt < PURGE_EVERY_MS) return;
    this.lastPurgeAt = now;
    await this.storage.health.purgeBefore(now - HISTORY_RETENTION_MS).catch((err: unknown) => {
      this.log.warn(`Could not purge old health history: ${err instanceof Error ? err.message : String(err)}`);
    });
  }
}
