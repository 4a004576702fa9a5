import { logEntry } from '../storage/storage.contract.ts';
import type { RequestLogEntry } from '../storage/storage.ts';
import { PoolEvents, type RequestRecord } from './pool-events.service.ts';
import { MAX_ATTEMPTS, MAX_ERROR_CHARS, MAX_ID_CHARS, MAX_REASON_CHARS, truncate } from './record-bounds.ts';

function received(events: PoolEvents, record: RequestLogEntry): RequestRecord {
  const seen: RequestRecord[] = [];
  const sub = events.requests.subscribe((r) => seen.push(r));
  events.emit(record);
  sub.unsubscribe();
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

describe('truncate', () => {
  it('leaves short text alone and cuts long text to the limit, marked', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abcdef', 4)).toHaveLength(4);
  });

  it('never splits a surrogate pair', () => {
    const cut = truncate('ab😀cdef', 4);
    expect(cut).toBe('ab…');
    expect(() => encodeURIComponent(cut)).not.toThrow();
  });
});

describe('PoolEvents', () => {
  it('hands subscribers every text field length-limited', () => {
    const huge = 'x'.repeat(1_000_000);
    const attempt = { provider: huge, upstream_model: huge, key: huge, status: 500, reason: huge, latency_ms: 1 };
    const r = received(
      new PoolEvents(),
      logEntry({
        requestId: huge,
        model: huge,
        provider: huge,
        upstreamModel: huge,
        error: huge,
        clientKey: huge,
        attempts: Array.from({ length: MAX_ATTEMPTS + 10 }, () => attempt),
      }),
    );
    for (const v of [r.requestId, r.model, r.provider, r.upstreamModel, r.clientKey]) expect(v).toHaveLength(MAX_ID_CHARS);
    expect(r.error).toHaveLength(MAX_ERROR_CHARS);
    expect(r.attempts).toHaveLength(MAX_ATTEMPTS);
    for (const a of r.attempts) {
      expect([a.provider.length, a.upstream_model.length, a.key?.length, a.reason.length]).toEqual([
        MAX_ID_CHARS,
        MAX_ID_CHARS,
        MAX_ID_CHARS,
        MAX_REASON_CHARS,
      ]);
    }
  });

  it('passes an ordinary record unchanged', () => {
    const record = logEntry();
    expect(received(new PoolEvents(), record)).toEqual(record);
  });

  it('labels known models and providers by their own names, anything else as "unknown"', () => {
    const events = new PoolEvents();
    events.useKnownNames({
      model: (id) => (id.toLowerCase() === 'gpt-4o-mini' ? 'gpt-4o-mini' : undefined),
      provider: (name) => (name.toLowerCase() === 'deepinfra' ? 'DeepInfra' : undefined),
    });
    expect(events.modelLabel('GPT-4o-mini')).toBe('gpt-4o-mini');
    expect(events.modelLabel('made-up-' + 'x'.repeat(100))).toBe('unknown');
    expect(events.providerLabel('deepinfra')).toBe('DeepInfra');
    expect(events.providerLabel('evil')).toBe('unknown');
  });
});
