import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { PoolEvents } from '../events/pool-events.service.ts';
import type { ProviderRegistry } from '../providers/provider-registry.service.ts';
import type { BreakerState } from '../providers/circuit-breaker.ts';
import { logEntry } from '../storage/storage.contract.ts';
import type { RequestLogEntry } from '../storage/storage.ts';
import { MetricsService, attemptOutcome, statusClass } from './metrics.service.ts';

interface FakeProvider {
  name: string;
  breaker: BreakerState;
  status: string;
}

let providers: FakeProvider[];
let events: PoolEvents;
let sut: MetricsService;

beforeEach(() => {
  providers = [
    { name: 'DeepInfra', breaker: 'closed', status: 'available' },
    { name: 'Together', breaker: 'open', status: 'cooling-down' },
    { name: 'HuggingFace', breaker: 'half-open', status: 'available' },
    { name: 'CloudflareAI', breaker: 'closed', status: 'unconfigured' },
  ];
  const registry = {
    all: () => providers.map((p) => ({ name: p.name, breaker: { snapshot: () => ({ state: p.breaker }) }, status: () => ({ status: p.status }) })),
  } as unknown as ProviderRegistry;
  events = new PoolEvents();
  sut = new MetricsService(registry, events);
  sut.onModuleInit();
});

afterEach(() => sut.onApplicationShutdown());

/** `name{labels} value` lines of one metric family, as scraped. */
async function samples(name: string): Promise<Record<string, number>> {
  const { body } = await sut.scrape();
  const out: Record<string, number> = {};
  for (const line of body.split('\n')) {
    const m = /^([a-z0-9_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] === name) out[m[2] ?? ''] = Number(m[3]);
  }
  return out;
}

const attempt = (provider: string, status: number | null, reason: string): RequestLogEntry['attempts'][number] => ({
  provider,
  upstream_model: 'm',
  status,
  reason,
  latency_ms: 10,
});

describe('MetricsService', () => {
  it('counts requests by endpoint, model and status class', async () => {
    events.emit(logEntry());
    events.emit(logEntry({ stream: true }));
    events.emit(logEntry({ status: 502, provider: null }));
    events.emit(logEntry({ endpoint: 'images', model: 'flux', status: 429 }));
    expect(await samples('g4f_requests_total')).toEqual({
      '{endpoint="chat",model="llama-3.3-70b",status_class="2xx"}': 2,
      '{endpoint="chat",model="llama-3.3-70b",status_class="5xx"}': 1,
      '{endpoint="images",model="flux",status_class="4xx"}': 1,
    });
  });

  it('labels unknown models and providers "unknown", so clients cannot add series at will', async () => {
    events.useKnownNames({ model: (id) => (id === 'llama-3.3-70b' ? id : undefined), provider: (name) => (name === 'DeepInfra' ? name : undefined) });
    for (let i = 0; i < 5; i++) {
      events.emit(logEntry({ model: `made-up-${i}-${'x'.repeat(10_000)}`, status: 404, provider: null, attempts: [] }));
      events.emit(logEntry({ provider: `ghost-${i}`, attempts: [attempt(`ghost-${i}`, 500, 'upstream 500'), attempt('DeepInfra', 999, 'odd')] }));
    }
    expect(await samples('g4f_requests_total')).toEqual({
      '{endpoint="chat",model="unknown",status_class="4xx"}': 5,
      '{endpoint="chat",model="llama-3.3-70b",status_class="2xx"}': 5,
    });
    expect(await samples('g4f_upstream_attempts_total')).toEqual({
      '{provider="unknown",outcome="error",status="500"}': 5,
      '{provider="DeepInfra",outcome="error",status="other"}': 5,
    });
    expect(Object.keys(await samples('g4f_ttft_seconds_count'))).toEqual(['{endpoint="chat",provider="unknown"}']);
  });

  it('observes durations and TTFT in seconds, TTFT only for answered requests', async () => {
    events.emit(logEntry({ latencyMs: 850, ttftMs: 300 }));
    events.emit(logEntry({ status: 502, provider: null, latencyMs: 40, ttftMs: null }));
    const duration = await samples('g4f_request_duration_seconds_count');
    expect(duration).toEqual({ '{endpoint="chat",stream="false"}': 2 });
    expect(await samples('g4f_request_duration_seconds_sum')).toEqual({ '{endpoint="chat",stream="false"}': 0.89 });
    expect(await samples('g4f_ttft_seconds_count')).toEqual({ '{endpoint="chat",provider="DeepInfra"}': 1 });
    const buckets = await samples('g4f_ttft_seconds_bucket');
    expect(buckets['{le="0.2",endpoint="chat",provider="DeepInfra"}']).toBe(0);
    expect(buckets['{le="0.3",endpoint="chat",provider="DeepInfra"}']).toBe(1);
  });

  it('adds tokens per type and answering provider', async () => {
    events.emit(logEntry());
    events.emit(logEntry({ provider: 'Together', usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }));
    events.emit(logEntry());
    expect(await samples('g4f_tokens_total')).toEqual({
      '{type="prompt",provider="DeepInfra"}': 24,
      '{type="completion",provider="DeepInfra"}': 68,
      '{type="prompt",provider="Together"}': 1,
      '{type="completion",provider="Together"}': 2,
    });
  });

  it('counts every attempt with its outcome and upstream status', async () => {
    events.emit(
      logEntry({
        provider: 'HuggingFace',
        attempts: [
          attempt('DeepInfra', 500, 'HTTP 500'),
          attempt('Together', null, 'skipped: cooling down'),
          attempt('DeepInfra', null, 'timeout: 1500 ms'),
          attempt('HuggingFace', 200, 'ok'),
        ],
      }),
    );
    expect(await samples('g4f_upstream_attempts_total')).toEqual({
      '{provider="DeepInfra",outcome="error",status="500"}': 1,
      '{provider="Together",outcome="skipped",status="none"}': 1,
      '{provider="DeepInfra",outcome="error",status="none"}': 1,
      '{provider="HuggingFace",outcome="ok",status="200"}': 1,
    });
  });

  it('reads breaker states and availability when scraped', async () => {
    expect(await samples('g4f_provider_breaker_state')).toEqual({
      '{provider="DeepInfra"}': 0,
      '{provider="Together"}': 2,
      '{provider="HuggingFace"}': 1,
      '{provider="CloudflareAI"}': 0,
    });
    expect(await samples('g4f_provider_available')).toEqual({
      '{provider="DeepInfra"}': 1,
      '{provider="Together"}': 0,
      '{provider="HuggingFace"}': 1,
      '{provider="CloudflareAI"}': 0,
    });
    providers[1]!.breaker = 'closed';
    providers[1]!.status = 'available';
    expect((await samples('g4f_provider_breaker_state'))['{provider="Together"}']).toBe(0);
    expect((await samples('g4f_provider_available'))['{provider="Together"}']).toBe(1);
  });

  it("includes Node's process metrics with the g4f_ prefix, in Prometheus' text format", async () => {
    const { contentType, body } = await sut.scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toMatch(/^# TYPE g4f_process_cpu_user_seconds_total counter$/m);
    expect(body).toMatch(/^g4f_nodejs_heap_size_used_bytes \d+/m);
    expect(body).not.toMatch(/^process_cpu/m);
  });

  it('never throws into the emitter', () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    expect(() => events.emit({ ...logEntry(), attempts: null } as unknown as RequestLogEntry)).not.toThrow();
    expect(error).toHaveBeenCalledTimes(1);
    error.mockRestore();
  });

  it('maps statuses and attempt reasons to labels', () => {
    expect([200, 299, 404, 499, 502].map(statusClass)).toEqual(['2xx', '2xx', '4xx', '4xx', '5xx']);
    expect(['ok', 'skipped: cooling down', 'HTTP 500: x', 'timeout: y'].map(attemptOutcome)).toEqual(['ok', 'skipped', 'error', 'error']);
  });
});
