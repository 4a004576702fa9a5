import type { KeyQuotaView, ProviderDetail, ProviderKeyView, QuotaUsage } from '#contracts';
import { budgetWarnings, limitLabel, quotaLine, quotaLines, restText, untilText, upstreamText } from './quota-view';

const NOW = Date.UTC(2030, 0, 1, 12);
const usage = (limit: string, used: number, max: number | null, resetAt = NOW + 3_600_000): QuotaUsage => ({
  limit,
  used,
  max,
  remaining: max === null ? null : Math.max(0, max - used),
  resetAt,
});
const quota = (u: QuotaUsage[], restingUntil: number | null = null): KeyQuotaView => ({
  usage: u,
  upstream: null,
  restingUntil,
  restReason: null,
  headroom: 1,
});
const key = (id: string, q: KeyQuotaView): ProviderKeyView => ({
  id,
  source: 'env',
  label: null,
  masked: '****',
  breaker: { state: 'closed', consecutiveFailures: 0, openUntil: null, lastFailure: null },
  invalid: false,
  quota: q,
});
/** A provider as the API shows it: `quota` is the keys' use summed (as the gateway sums it). */
const provider = (name: string, keys: ProviderKeyView[], enabled = true, total: QuotaUsage[] = keys.flatMap((k) => k.quota?.usage ?? [])) =>
  ({ name, enabled, keys, quota: total }) as unknown as ProviderDetail;

describe('quota view', () => {
  it('names limits in words', () => {
    expect(['requests/day', 'tokens/minute', 'neurons/day', 'requests/month', 'requests/30s', 'tokens/hour'].map(limitLabel)).toEqual([
      '今日请求',
      '每分钟 Token',
      '今日神经元',
      '本月请求',
      '每 30 秒请求',
      '每小时 Token',
    ]);
  });

  it('says how long until a reset', () => {
    expect([untilText(9_000), untilText(252_000), untilText(11_100_000), untilText(2 * 86_400_000 + 3_600_000), untilText(-5)]).toEqual([
      '9 秒',
      '4 分 12 秒',
      '3 小时 5 分',
      '2 天 1 小时',
      '0 秒',
    ]);
  });

  it('shows a known limit with what is left and when it resets, an unknown one as unknown', () => {
    expect(quotaLine(usage('requests/day', 3, 100), NOW)).toEqual({
      limit: 'requests/day',
      label: '今日请求',
      text: '今日请求 3 / 100 · 剩余 97 · 1 小时 0 分后重置',
      ratio: 0.03,
      tone: 'success',
    });
    expect(quotaLine(usage('requests/day', 85, 100), NOW).tone).toBe('warning');
    expect(quotaLine(usage('requests/day', 100, 100), NOW).tone).toBe('danger');
    expect(quotaLine(usage('tokens/day', 1234, null), NOW)).toMatchObject({ text: '今日 Token 1,234（上限未知）', ratio: null, tone: 'neutral' });
    // Known limits first; of the unknown ones only today's requests and tokens.
    expect(quotaLines([usage('requests/day', 1, null), usage('tokens/month', 5, null), usage('neurons/day', 10, 10_000)], NOW).map((l) => l.limit)).toEqual([
      'neurons/day',
      'requests/day',
    ]);
  });

  it('labels an estimated count (Workers AI’s neurons) as 估算', () => {
    expect(quotaLine({ ...usage('neurons/day', 1234, 10_000), estimated: true }, NOW)).toMatchObject({
      label: '今日神经元（估算）',
      text: '今日神经元（估算） 1,234 / 1 万 · 剩余 8,766 · 1 小时 0 分后重置',
    });
  });

  it('says why a key rests and what the upstream said', () => {
    expect(restText(quota([], NOW + 65_000), NOW)).toBe('额度用尽，1 分 5 秒后恢复');
    expect(restText(quota([], NOW - 1), NOW)).toBeNull();
    expect(restText(undefined, NOW)).toBeNull();
    const q = { ...quota([]), upstream: { remainingRequests: 12, remainingTokens: 9000, resetAt: NOW + 30_000, observedAt: NOW } };
    expect(upstreamText(q, NOW)).toBe('上游：剩余请求 12 · 剩余 Token 9,000 · 30 秒后重置');
  });

  it('warns before a budget runs out, and when every key rests; worst first, enabled providers only', () => {
    const warnings = budgetWarnings(
      [
        provider('Fine', [key('a', quota([usage('requests/day', 10, 100)]))]),
        provider('Near', [key('a', quota([usage('neurons/day', 8500, 10_000)]))]),
        provider('Spent', [key('a', quota([], NOW + 120_000)), key('b', quota([], NOW + 60_000))]),
        provider('Off', [key('a', quota([usage('requests/day', 100, 100)]))], false),
        provider('Unknown', [key('a', quota([usage('requests/day', 10_000, null)]))]),
      ],
      NOW,
    );
    expect(warnings).toEqual([
      { provider: 'Spent', text: 'Spent 的密钥额度都已用尽，1 分 0 秒后恢复', tone: 'danger' },
      { provider: 'Near', text: 'Near 今日神经元已用 85%：今日神经元 8,500 / 1 万 · 剩余 1,500 · 1 小时 0 分后重置', tone: 'warning' },
    ]);
  });
});
