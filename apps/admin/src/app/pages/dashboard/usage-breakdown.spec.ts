import type { StatsBreakdownItem } from '#contracts';
import { createHarness, type Harness } from '../../../testing/harness';
import { stats, summary } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import { clientKey } from '../keys/keys.fixtures';
import { setInput } from '../providers/providers.testing';
import { UsageBreakdown } from './usage-breakdown';
import { NO_KEY_LABEL, TABLE_LIMIT, TOP_N, breakdownRows } from './usage-breakdown-view';

const item = (value: string, requests: number, failures = 0): StatsBreakdownItem => ({ value, ...summary(requests, failures) });

const report = stats([1], {
  models: [item('gpt-4o', 8, 1), item('llama-3.3-70b', 2)],
  providers: [item('DeepInfra', 9, 2), item('Together', 3)],
  keys: [item('ck_team', 6), item('', 3), item('ck_gone', 1)],
});

describe('breakdownRows', () => {
  it('keeps the API’s order, with bars relative to the busiest and the counts of each value', () => {
    const rows = breakdownRows(report, 'model', new Map());
    expect(rows.map((r) => [r.label, r.requests, r.failures, r.share, r.promptTokens, r.completionTokens])).toEqual([
      ['gpt-4o', 8, 1, 1, 80, 160],
      ['llama-3.3-70b', 2, 0, 0.25, 20, 40],
    ]);
    expect(rows[0]!.successRate).toBe(7 / 8);
    expect(breakdownRows(report, 'provider', new Map()).map((r) => r.value)).toEqual(['DeepInfra', 'Together']);
  });

  it('names client keys, the requests without one, and an unknown id as itself', () => {
    const rows = breakdownRows(report, 'key', new Map([['ck_team', '团队']]));
    expect(rows.map((r) => [r.value, r.label])).toEqual([
      ['ck_team', '团队'],
      ['', NO_KEY_LABEL],
      ['ck_gone', 'ck_gone'],
    ]);
  });

  it('nothing in the range: no rows', () => {
    expect(breakdownRows(stats([]), 'key', new Map())).toEqual([]);
  });
});

describe('UsageBreakdown', () => {
  let h: Harness;
  let sut: UsageBreakdown;

  beforeEach(() => {
    h = createHarness([]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    sut = h.run(() => new UsageBreakdown());
  });
  afterEach(() => {
    h.http.verify();
    h.destroy();
  });

  it('shows models first, switches dimension, and names keys once their list has loaded', () => {
    setInput(sut.stats, report);
    expect(sut.rows().map((r) => r.value)).toEqual(['gpt-4o', 'llama-3.3-70b']);
    expect(sut.note()).toBe('按客户端请求计');
    sut.dimension.set('key');
    expect(sut.rows()[0]!.label).toBe('ck_team');
    h.http.expectOne('/api/keys').flush({ data: [clientKey('ck_team', { name: '团队' })] });
    expect(sut.rows()[0]!.label).toBe('团队');
    sut.dimension.set('provider');
    expect(sut.note()).toMatch(/^按上游尝试计/);
  });

  it('bars for the top few, a table for up to its limit, and a count of the rest', () => {
    const many = Array.from({ length: TABLE_LIMIT + 7 }, (_, i) => item(`m${String(i).padStart(3, '0')}`, 1000 - i));
    setInput(sut.stats, stats([1], { models: many }));
    expect(sut.top().map((r) => r.value)).toEqual(many.slice(0, TOP_N).map((m) => m.value));
    expect(sut.tableRows()).toHaveLength(TABLE_LIMIT);
    expect(sut.hidden()).toBe(7);
    h.http.expectOne('/api/keys').flush({ data: [] });
  });

  it('a key list that cannot be read leaves the ids', () => {
    setInput(sut.stats, report);
    sut.dimension.set('key');
    h.http.expectOne('/api/keys').flush({ error: { message: 'no' } }, { status: 500, statusText: 'x' });
    expect(sut.rows()[0]!.label).toBe('ck_team');
  });
});
