import { clientKey } from './keys.fixtures';
import { accessMode, curlExample, formatDateTime, formatRpm, keyCounts, keyFormBody, sortKeys, validateKeyForm } from './keys-view';

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
    expect(validateKeyForm({ name: '团队 A', rpmLimit: '' })).toEqual({});
    expect(validateKeyForm({ name: '  ', rpmLimit: '' }).name).toBe('请填写名称。');
    expect(validateKeyForm({ name: 'x'.repeat(101), rpmLimit: '' }).name).toContain('100');
    for (const bad of ['0', '-1', '1.5', 'abc', '1000001'])
      expect([bad, validateKeyForm({ name: 'a', rpmLimit: bad }).rpmLimit]).toEqual([bad, expect.any(String)]);
    for (const good of ['1', ' 60 ', '1000000']) expect(validateKeyForm({ name: 'a', rpmLimit: good })).toEqual({});
  });

  it('turns the form into the API body: trimmed name, null for no limit', () => {
    expect(keyFormBody({ name: '  A ', rpmLimit: '' })).toEqual({ name: 'A', rpmLimit: null });
    expect(keyFormBody({ name: 'A', rpmLimit: ' 30 ' })).toEqual({ name: 'A', rpmLimit: 30 });
  });

  it('shows how to use a new key against this server', () => {
    expect(curlExample('http://pool.test:8080', 'sk-g4f-x')).toBe('curl http://pool.test:8080/v1/models -H "Authorization: Bearer sk-g4f-x"');
  });
});
