import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Subscription } from 'rxjs';
import { PoolEvents, type RequestRecord } from '../events/pool-events.service.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';
import type { BreakerState } from '../providers/circuit-breaker.ts';
import { LATENCY_BUCKETS_MS } from '../storage/storage.ts';

const SECONDS_BUCKETS = LATENCY_BUCKETS_MS.map((ms) => ms / 1000);
const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

let processRegistry: Registry | undefined;

/**
 * Node's own metrics (CPU, memory, event loop lag, GC) describe the process, not one app: one
 * registry per process, so apps started side by side (tests) do not each add GC observers.
 */
function nodeRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'g4f_' });
  }
  return processRegistry;
}

export const statusClass = (status: number): string => `${Math.floor(status / 100)}xx`;

/** An upstream HTTP status as a label: "none" without one, and only real status codes (100-599) as themselves. */
export const statusLabel = (status: number | null): string =>
  status === null ? 'none' : Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : 'other';

/** 'ok', 'skipped' (cooling down, never sent) or 'error', from an attempt's reason. */
/** An attempt cut short by the request's end (`aborted: …`) is no verdict on the provider: its own outcome. */
export const attemptOutcome = (reason: string): 'ok' | 'error' | 'skipped' | 'aborted' =>
  reason === 'ok' ? 'ok' : reason.startsWith('skipped') ? 'skipped' : reason.startsWith('aborted') ? 'aborted' : 'error';

/**
 * Prometheus metrics in the app's own registry (never prom-client's global one). Counters and
 * histograms are updated synchronously from PoolEvents, which costs a few map lookups; provider
 * gauges are read from the registry when scraped.
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  readonly registry = new Registry();
  private subscription?: Subscription;

  private readonly requests = new Counter({
    name: 'g4f_requests_total',
    help: 'Client requests by endpoint, gateway model and HTTP status class.',
    labelNames: ['endpoint', 'model', 'status_class'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'g4f_request_duration_seconds',
    help: 'Time from receiving a client request to its last byte.',
    labelNames: ['endpoint', 'stream'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly ttft = new Histogram({
    name: 'g4f_ttft_seconds',
    help: 'Time from receiving a client request to its first content, by the provider that answered.',
    labelNames: ['endpoint', 'provider'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly tokens = new Counter({
    name: 'g4f_tokens_total',
    help: 'Tokens of answered requests (estimated where the upstream gave no usage), by the provider that answered.',
    labelNames: ['type', 'provider'] as const,
    registers: [this.registry],
  });
  private readonly attempts = new Counter({
    name: 'g4f_upstream_attempts_total',
    help: 'Upstream attempts by provider, outcome (ok, error, skipped) and upstream HTTP status ("none" without one).',
    labelNames: ['provider', 'outcome', 'status'] as const,
    registers: [this.registry],
  });
  private readonly malformed = new Counter({
    name: 'g4f_upstream_malformed_events_total',
    help: 'Upstream stream events skipped for not being JSON, by provider (the answer went on without them).',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  constructor(
    providers: ProviderRegistry,
    private readonly events: PoolEvents,
  ) {
    new Gauge({
      name: 'g4f_provider_breaker_state',
      help: "A provider's circuit breaker: 0 closed, 1 half-open, 2 open.",
      labelNames: ['provider'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of providers.all()) this.set({ provider: p.name }, BREAKER_VALUE[p.breaker.snapshot().state]);
      },
    });
    new Gauge({
      name: 'g4f_provider_available',
      help: '1 when a provider can take requests now (enabled, configured, not cooling down), else 0.',
      labelNames: ['provider'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of providers.all()) this.set({ provider: p.name }, p.status().status === 'available' ? 1 : 0);
      },
    });
  }

  onModuleInit(): void {
    this.subscription = this.events.requests.subscribe((record) => this.observe(record));
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
  }

  /**
   * Counts one request; never throws (it runs inside the request's emit). Model and provider
   * labels are known names or "unknown": a label per client-chosen string would grow /metrics
   * (and every scraper's storage) without bound.
   */
  observe(r: RequestRecord): void {
    try {
      const provider = r.provider === null ? null : this.events.providerLabel(r.provider);
      this.requests.inc({ endpoint: r.endpoint, model: this.events.modelLabel(r.model), status_class: statusClass(r.status) });
      this.duration.observe({ endpoint: r.endpoint, stream: String(r.stream) }, r.latencyMs / 1000);
      if (r.ttftMs !== null && provider !== null) this.ttft.observe({ endpoint: r.endpoint, provider }, r.ttftMs / 1000);
      if (r.usage && provider !== null) {
        this.tokens.inc({ type: 'prompt', provider }, r.usage.prompt_tokens);
        this.tokens.inc({ type: 'completion', provider }, r.usage.completion_tokens);
      }
      for (const a of r.attempts) {
        const provider = this.events.providerLabel(a.provider);
        this.attempts.inc({ provider, outcome: attemptOutcome(a.reason), status: statusLabel(a.status) });
        if (a.malformed_events) this.malformed.inc({ provider }, a.malformed_events);
      }
    } catch (err) {
      this.logger.error(`Could not count request ${r.requestId}: ${(err as Error).message}`);
    }
  }

  /** The text exposition of the app's metrics and the process's. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    const merged = Registry.merge([this.registry, nodeRegistry()]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }
}
