import { NO_LIMITS, clientKey } from './keys.fixtures';
import {
  accessMode,
  curlExample,
  emptyKeyForm,
  formatDateTime,
  formatRpm,
  isIpOrCidr,
  keyCounts,
  keyFormBody,
  limitLines,
  quotaLines,
  sortKeys,
  validateKeyForm,
  type KeyFormValue,
} from './keys-view';

const form = (value: Partial<KeyFormValue>): KeyFormValue => ({ ...emptyKeyForm(), ...value });

describe('keys view', () => {
  it('tells what /v1 asks for the way the guard decides: revoked keys still count', () => {
    expect(accessMode([])).toBe('open-unless-env');
    expect(accessMode([clientKey('a'), clientKey('b', { revoked: true })])).toBe('keys-required');
    expect(accessMode([clientKey('b', { revoked: true, revokedAt: 1 })])).toBe('all-revoked');
  });

  it('counts and orders keys: active first, newest first within each group', () => {
    const keys = [
      clientKey('old', { createdAt: 1 }),
      clientKey('gone', { createdAt: 5, revoked: true }),
      clientKey('new', { createdAt: 3 }),
      clientKey('gone-old', { createdAt: 2, revoked: true }),
    ];
    expect(sortKeys(keys).map((k) => k.id)).toEqual(['new', 'old', 'gone', 'gone-old']);
    expect(keyCounts(keys)).toEqual({ total: 4, active: 2, revoked: 2 });
  });

  it('formats limits and dates', () => {
    expect(formatRpm(null)).toBe('不限');
    expect(formatRpm(60)).toBe('60 次/分钟');
    expect(formatRpm(20_000)).toBe('2 万 次/分钟');
    expect(formatDateTime(new Date(2026, 0, 5, 9, 7).getTime())).toBe('2026-01-05 09:07');
  });

  it('validates the form as the API will', () => {
    expect(validateKeyForm(form({ name: '团队 A', rpmLimit: '' }))).toEqual({});
    expect(validateKeyForm(form({ name: '  ', rpmLimit: '' })).name).toBe('请填写名称。');
    expect(validateKeyForm(form({ name: 'x'.repeat(101) })).name).toContain('100');
    for (const bad of ['0', '-1', '1.5', 'abc', '1000001'])
      expect([bad, validateKeyForm(form({ name: 'a', rpmLimit: bad })).rpmLimit]).toEqual([bad, expect.any(String)]);
    for (const good of ['1', ' 60 ', '1000000']) expect(validateKeyForm(form({ name: 'a', rpmLimit: good }))).toEqual({});
  });

  it('turns the form into the API body: trimmed name, null for no limit', () => {
    expect(keyFormBody(form({ name: '  A ', rpmLimit: '' }))).toEqual({ ...NO_LIMITS, name: 'A' });
    expect(keyFormBody(form({ name: 'A', rpmLimit: ' 30 ', tokensTotal: '5000', allowedIps: ' 127.0.0.1 ,, ::1 ' }))).toEqual({
      ...NO_LIMITS,
      name: 'A',
      rpmLimit: 30,
      tokensTotal: 5000,
      allowedIps: ['127.0.0.1', '::1'],
    });
  });

  it('checks quotas, expiry, models and addresses as the API will', () => {
    expect(validateKeyForm(form({ name: 'a', requestsPerDay: '0', tokensTotal: '1000000000001', concurrencyLimit: '10001' }))).toEqual({
      requestsPerDay: expect.any(String),
      tokensTotal: expect.any(String),
      concurrencyLimit: expect.any(String),
    });
    expect(validateKeyForm(form({ name: 'a', expiresAt: 'soon' })).expiresAt).toContain('日期');
    expect(validateKeyForm(form({ name: 'a', allowedModels: 'gpt-4o*\n模型' })).allowedModels).toContain('ASCII');
    expect(validateKeyForm(form({ name: 'a', allowedModels: Array.from({ length: 101 }, (_, i) => `m${i}`).join(',') })).allowedModels).toContain('100');
    expect(validateKeyForm(form({ name: 'a', allowedIps: '10.0.0.1\nexample.com' })).allowedIps).toContain('example.com');
    for (const good of ['10.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '::1', '2001:db8::/32', '::ffff:10.0.0.1'])
      expect([good, isIpOrCidr(good)]).toEqual([good, true]);
    for (const bad of ['10.0.0.256', '10.0.0.0/33', '2001:db8::/129', 'a.b.c.d', '10.0.0.0/8/8', '']) expect([bad, isIpOrCidr(bad)]).toEqual([bad, false]);
  });

  it('shows used and remaining of each quota that is set, and the other limits in a few words', () => {
    const key = clientKey('q', {
      requestsPerDay: 10,
      tokensTotal: 50_000,
      expiresAt: new Date(2030, 0, 1, 0, 0).getTime(),
      concurrencyLimit: 2,
      allowedModels: ['a', 'b', 'c', 'd'],
      allowedIps: ['10.0.0.0/8'],
      quotaUsage: [
        { quota: 'requestsPerDay', limit: 10, used: 3, remaining: 7, resetsAt: 1 },
        { quota: 'requestsTotal', limit: null, used: 3, remaining: null, resetsAt: null },
        { quota: 'tokensTotal', limit: 50_000, used: 60_000, remaining: 0, resetsAt: null },
      ],
    });
    expect(quotaLines(key)).toEqual(['每日请求数 3 / 10（剩 7）', '总 Token 6 万 / 5 万（剩 0）']);
    expect(limitLines(key, new Date(2029, 0, 1).getTime())).toEqual(['2030-01-01 00:00 过期', '并发 ≤ 2', '模型：a、b、c 等 4 个', 'IP：10.0.0.0/8']);
    expect(limitLines(key, new Date(2031, 0, 1).getTime())[0]).toBe('已于 2030-01-01 00:00 过期');
    expect(limitLines(clientKey('none'))).toEqual([]);
  });

  it('shows how to use a new key against this server', () => {
    expect(curlExample('http://pool.test:8080', 'sk-g4f-x')).toBe('curl http://pool.test:8080/v1/models -H "Authorization: Bearer sk-g4f-x"');
  });
});
