import { loadConfig } from '../config/app-config.ts';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { envKeyId } from './key-pool.ts';
import type { ProviderAdapter } from './provider-adapter.ts';
import { ProviderRegistry } from './provider-registry.service.ts';
import { QuotaLedger, readRateLimitHeaders, resetTime } from './quota-ledger.ts';

const NOW = Date.UTC(2030, 0, 1, 12);

describe('resetTime', () => {
  it.each([
    ['1s', NOW + 1000],
    ['6m0s', NOW + 360_000],
    ['1h2m3s', NOW + 3_723_000],
    ['20ms', NOW + 20],
    ['1.5s', NOW + 1500],
    ['30', NOW + 30_000],
    ['2.25', NOW + 2250],
    [String(NOW / 1000 + 60), NOW + 60_000],
    [String(NOW + 5000), NOW + 5000],
  ])('reads %s', (raw, at) => {
    expect(resetTime(raw, NOW)).toBe(at);
  });

  it.each([undefined, '', 'soon', '1d', 'm', '-5', '1'.repeat(40)])('ignores %j', (raw) => {
    expect(resetTime(raw, NOW)).toBeNull();
  });
});

describe('readRateLimitHeaders', () => {
  it('reads OpenAI’s headers', () => {
    const seen = readRateLimitHeaders(
      {
        'x-ratelimit-limit-requests': '60',
        'x-ratelimit-remaining-requests': '59',
        'x-ratelimit-reset-requests': '1s',
        'x-ratelimit-limit-tokens': '150000',
        'x-ratelimit-remaining-tokens': '149984',
        'x-ratelimit-reset-tokens': '6m0s',
      },
      NOW,
      200,
    );
    expect(seen).toEqual({
      limitRequests: 60,
      remainingRequests: 59,
      resetRequestsAt: NOW + 1000,
      limitTokens: 150_000,
      remainingTokens: 149_984,
      resetTokensAt: NOW + 360_000,
      at: NOW,
    });
  });

  it('takes the generic names, and a 429’s Retry-After as nothing left until then', () => {
    expect(readRateLimitHeaders({ 'x-ratelimit-remaining': '0', 'x-ratelimit-limit': '10', 'x-ratelimit-reset': '30' }, NOW, 200)).toMatchObject({
      remainingRequests: 0,
      limitRequests: 10,
      resetRequestsAt: NOW + 30_000,
    });
    expect(readRateLimitHeaders({ 'retry-after': '7' }, NOW, 429)).toMatchObject({ remainingRequests: 0, resetRequestsAt: NOW + 7000 });
  });

  it('is undefined for an answer without any, and ignores numbers that are not counts', () => {
    expect(readRateLimitHeaders({ 'content-type': 'application/json' }, NOW, 200)).toBeUndefined();
    expect(readRateLimitHeaders({ 'retry-after': '7' }, NOW, 200)).toBeUndefined();
    expect(readRateLimitHeaders({ 'x-ratelimit-remaining-requests': '-1' }, NOW, 200)).toBeUndefined();
    expect(readRateLimitHeaders({ 'x-ratelimit-remaining-requests': '1e99' }, NOW, 200)).toBeUndefined();
    expect(readRateLimitHeaders({ 'x-ratelimit-remaining-requests': '99999999999999' }, NOW, 200)).toBeUndefined();
  });
});

describe('QuotaLedger: estimated neurons', () => {
  it('carries fractions of a neuron to the next answer and marks the count as an estimate', async () => {
    const storage = new SqliteStorage({ file: ':memory:' });
    await storage.init();
    const config = loadConfig({ QUOTA_SYNC_MS: '60000' });
    config.providers.cloudflare = { enabled: true, apiKeys: ['kc'], extra: {} };
    const adapter = { id: 'cloudflare', name: 'CloudflareAI', defaultBaseUrl: 'http://127.0.0.1:9', requiresKey: true } as ProviderAdapter;
    const ledger = new QuotaLedger(new ProviderRegistry([adapter], config), storage, config);
    await ledger.onModuleInit();
    try {
      const key = envKeyId('kc');
      const neurons = () => ledger.keyView('cloudflare', key, Date.now()).usage.find((u) => u.limit === 'neurons/day');
      const count = ledger.forProvider('cloudflare').count;
      count(key, { neurons: 0.4 });
      count(key, { neurons: 0.4 });
      // Rounding each would have counted nothing (or two).
      expect(neurons()).toMatchObject({ used: 0, max: 10_000, estimated: true });
      count(key, { neurons: 0.4 });
      expect(neurons()?.used).toBe(1);
      count(key, { tokens: 12, neurons: 2.9 });
      expect(neurons()?.used).toBe(4);
      expect(ledger.keyView('cloudflare', key, Date.now()).usage.find((u) => u.limit === 'tokens/day')).toMatchObject({ used: 12 });
      expect(ledger.keyView('cloudflare', key, Date.now()).usage.find((u) => u.limit === 'tokens/day')?.estimated).toBeUndefined();
    } finally {
      await ledger.beforeApplicationShutdown();
      await storage.close();
    }
  });
});
