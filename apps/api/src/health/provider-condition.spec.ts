import { loadConfig } from '../config/app-config.ts';
import type { ProviderAdapter } from '../providers/provider-adapter.ts';
import { ProviderState } from '../providers/provider-registry.service.ts';
import type { ProviderCheck } from './provider-probe.ts';
import { providerCondition } from './provider-condition.ts';

const adapter = { id: 'fake', name: 'Fake', defaultBaseUrl: 'http://127.0.0.1:9', requiresKey: false, chat: () => undefined } as unknown as ProviderAdapter;

function makeProvider(env: Record<string, string> = {}): ProviderState {
  return new ProviderState(adapter, false, { enabled: true, apiKeys: [], extra: {} }, loadConfig({ BREAKER_FAILURE_THRESHOLD: '1000', ...env }));
}

const check = (ok: boolean, probe: ProviderCheck['probe'], checkedAt = Date.now() + 1): ProviderCheck => ({
  provider: 'Fake',
  ok,
  probe,
  checkedAt,
  latencyMs: 5,
  error: ok ? null : 'HTTP 500: down',
});

describe('providerCondition', () => {
  it('unknown before any traffic or check; healthy with good evidence', () => {
    const p = makeProvider();
    expect(providerCondition(p, null)).toMatchObject({ state: 'unknown', source: null });
    expect(providerCondition(p, check(true, 'chat'))).toMatchObject({ state: 'healthy', source: 'check' });
    p.recordOutcome(true, 10, undefined, { status: 200 });
    expect(providerCondition(p, null)).toMatchObject({ state: 'healthy', source: 'live' });
  });

  it('three live failures in a row: failing with the status and reason, whatever a model-list read says', () => {
    const p = makeProvider();
    for (let i = 0; i < 3; i++) p.recordOutcome(false, null, 'HTTP 500: model crashed', { status: 500 });
    const c = providerCondition(p, check(true, 'models'));
    expect(c).toMatchObject({ state: 'failing', source: 'live', status: 500, reason: 'HTTP 500: model crashed' });
    expect(c.live).toMatchObject({ recent: 3, failed: 3, consecutiveFailures: 3 });
    // A one-token chat that succeeded after them answers for them.
    expect(providerCondition(p, check(true, 'chat')).state).toBe('healthy');
  });

  it('a share of recent failures: degraded; a failed check newer than the last success: failing', () => {
    const p = makeProvider();
    for (const ok of [true, false, true, true]) p.recordOutcome(ok, ok ? 10 : null, ok ? undefined : 'timeout: no answer', { status: null });
    expect(providerCondition(p, null)).toMatchObject({ state: 'degraded', source: 'live', status: null, reason: 'timeout: no answer' });
    expect(providerCondition(p, check(false, 'chat'))).toMatchObject({ state: 'failing', source: 'check', reason: 'HTTP 500: down' });
    expect(providerCondition(p, check(false, 'chat', 0)).state).toBe('degraded');
  });

  it('an open breaker: failing; a disabled provider: unknown; the window is bounded', () => {
    const p = makeProvider();
    p.breaker.onFailure({ immediate: true, reason: 'HTTP 503', kind: 'chat' });
    expect(providerCondition(p, null)).toMatchObject({ state: 'failing', source: 'breaker', reason: 'HTTP 503' });
    p.enabled = false;
    expect(providerCondition(p, null).state).toBe('unknown');
    const busy = makeProvider();
    for (let i = 0; i < 50; i++) busy.recordOutcome(false, null, 'x'.repeat(5000), { status: 502 });
    const live = busy.live();
    expect(live.recent).toBe(20);
    expect(live.lastFailure!.reason!.length).toBeLessThanOrEqual(500);
  });
});
