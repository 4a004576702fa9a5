import type { ProviderQuotaView, QuotaUsage } from '#contracts';
import { limitNames, limitProblem, quotaBody, quotaErrorField, quotaErrorText, quotaFormValue, resetHourProblem } from './quota-form';

const usage = (limit: string, max: number | null): QuotaUsage => ({ limit, used: 0, max, remaining: max, resetAt: 0 });

function view(extra: Partial<ProviderQuotaView> = {}): ProviderQuotaView {
  return {
    provider: 'cloudflare',
    name: 'CloudflareAI',
    limits: { 'neurons/day': 10_000 },
    timeZone: 'UTC',
    resetHour: 0,
    creditWindow: 'day',
    override: null,
    usage: [],
    keys: [
      {
        id: 'k1',
        masked: '****x9f2',
        override: { 'requests/day': 50, 'tokens/minute': null, creditWindow: 'month' },
        quota: {
          usage: [usage('neurons/day', 10_000), usage('requests/day', 50), usage('tokens/day', null)],
          upstream: null,
          restingUntil: null,
          restReason: null,
          headroom: 1,
        },
      },
    ],
    ...extra,
  };
}

describe('quota form', () => {
  it('offers the usual limits, neurons for Cloudflare only, and any other limit in effect or set', () => {
    expect(limitNames(view(), null, { 'neurons/day': 10_000 })).toEqual([
      'requests/minute',
      'requests/day',
      'requests/month',
      'tokens/minute',
      'tokens/day',
      'tokens/month',
      'neurons/day',
    ]);
    const together = view({ provider: 'together', name: 'Together', limits: { 'requests/30s': 10 } });
    expect(limitNames(together, { 'requests/hour': 5, timeZone: 'UTC' }, {})).toEqual([
      'requests/minute',
      'requests/day',
      'requests/month',
      'tokens/minute',
      'tokens/day',
      'tokens/month',
      'requests/30s',
      'requests/hour',
    ]);
  });

  it('shows what applies now, "未知" where nothing is known, and the console’s own setting as typed', () => {
    const provider = quotaFormValue(view());
    expect(provider.rows.map((r) => [r.label, r.current, r.value])).toEqual([
      ['每分钟请求', '未知', ''],
      ['每日请求', '未知', ''],
      ['每月请求', '未知', ''],
      ['每分钟 Token', '未知', ''],
      ['每日 Token', '未知', ''],
      ['每月 Token', '未知', ''],
      ['每日神经元', '10,000', ''],
    ]);
    expect(provider).toMatchObject({ timeZone: '', resetHour: '', currentTimeZone: 'UTC', currentResetHour: 0, kept: {} });

    const key = quotaFormValue(view(), 'k1');
    const row = (limit: string) => key.rows.find((r) => r.limit === limit)!;
    expect(row('requests/day')).toMatchObject({ current: '50', value: '50', unknownSet: false });
    expect(row('tokens/minute')).toMatchObject({ current: '未知', value: '', unknownSet: true });
    expect(row('neurons/day')).toMatchObject({ current: '10,000', value: '' });
    expect(key.kept).toEqual({ creditWindow: 'month' });
  });

  it('sends what is typed, keeps what it does not edit, and drops an emptied limit', () => {
    const v = quotaFormValue(view(), 'k1');
    const rows = v.rows.map((r) => (r.limit === 'requests/day' ? { ...r, value: '' } : r.limit === 'tokens/day' ? { ...r, value: ' 20000 ' } : r));
    expect(quotaBody({ ...v, rows, timeZone: 'Asia/Shanghai', resetHour: '8' })).toEqual({
      creditWindow: 'month',
      'tokens/minute': null,
      'tokens/day': 20_000,
      timeZone: 'Asia/Shanghai',
      resetHour: 8,
    });
    // A number typed over a limit set to unknown replaces it.
    const typed = v.rows.map((r) => (r.limit === 'tokens/minute' ? { ...r, value: '0' } : r));
    expect(quotaBody({ ...v, rows: typed })).toMatchObject({ 'tokens/minute': 0, 'requests/day': 50 });
  });

  it('checks limits and the reset hour before sending', () => {
    expect(limitProblem('')).toBeNull();
    expect(limitProblem('0')).toBeNull();
    expect(limitProblem('1000000000000')).toBeNull();
    for (const bad of ['-1', '1.5', 'abc', '1000000000001', '1e3']) expect(limitProblem(bad)).toBe('请输入 0 到 1 万亿之间的整数，留空表示不设置');
    expect(resetHourProblem('23')).toBeNull();
    expect(resetHourProblem('24')).toBe('请输入 0 到 23 的整数');
  });

  it('puts the API’s objections in Chinese, under the field they are about', () => {
    const tz = 'QUOTA body.timeZone must be an IANA time zone such as "UTC" or "America/Los_Angeles"';
    expect(quotaErrorField(tz)).toBe('timeZone');
    expect(quotaErrorText(tz)).toBe('时区无效：请填写 IANA 时区名，如 UTC、Asia/Shanghai 或 America/Los_Angeles');
    const limit = 'body["requests/day"] must be a whole number from 0 to 1000000000000, or null for unknown';
    expect(quotaErrorField(limit)).toBe('requests/day');
    expect(quotaErrorText(limit)).toBe('「每日请求」无效：请填写 0 到 1 万亿之间的整数');
    expect(quotaErrorField('body.resetHour must be an integer from 0 to 23')).toBe('resetHour');
    expect(quotaErrorText('body may set at most 20 limits')).toBe('限额太多：最多设置 20 项');
    expect(quotaErrorText('something else')).toBe('服务器拒绝了这些限额：something else');
  });
});
