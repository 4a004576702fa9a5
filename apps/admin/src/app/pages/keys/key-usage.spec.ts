import { MAT_DIALOG_DATA, MatDialog } from '@angular/material/dialog';
import type { KeyUsageResponse } from '#contracts';
import { createHarness, type Harness } from '../../../testing/harness';
import { point, summary } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import { FakeDialog, setInput } from '../providers/providers.testing';
import { KeyUsageButton, KeyUsageDialog } from './key-usage';
import { MAX_BARS, usageBars, usageSummary } from './key-usage-view';
import { clientKey } from './keys.fixtures';

const HOUR = 3_600_000;
const TO = Date.UTC(2030, 0, 1, 8);

/** `hours` hour buckets ending at TO, request counts from `counts` (last ones), zero before. */
function usage(hours: number, counts: number[] = [], overrides: Partial<KeyUsageResponse> = {}): KeyUsageResponse {
  const from = TO - hours * HOUR;
  const series = Array.from({ length: hours }, (_, i) => point(from + i * HOUR, counts[i - (hours - counts.length)] ?? 0, i === hours - 1 ? 1 : 0));
  const requests = counts.reduce((a, b) => a + b, 0);
  return {
    key: 'ck_1',
    range: '7d',
    granularity: 'hour',
    bucketMs: HOUR,
    from,
    to: TO,
    generatedAt: TO,
    totals: summary(requests, requests ? 1 : 0),
    series,
    ...overrides,
  };
}

describe('usageBars', () => {
  it('one bar per bucket while they fit, heights relative to the tallest', () => {
    const bars = usageBars(usage(24, [1, 4, 2]));
    expect(bars).toHaveLength(24);
    expect(bars.slice(-3).map((b) => [b.requests, b.height, b.tokens])).toEqual([
      [1, 0.25, 30],
      [4, 1, 120],
      [2, 0.5, 60],
    ]);
    expect(bars.at(-1)!.failures).toBe(1);
    expect(bars.slice(0, -3).every((b) => b.height === 0)).toBe(true);
  });

  it('90 days of hours become one bar per day, the current hour closing the last one', () => {
    const u = usage(90 * 24, [5, 7]);
    const bars = usageBars(u);
    expect(bars).toHaveLength(MAX_BARS);
    expect(bars.reduce((n, b) => n + b.requests, 0)).toBe(12);
    expect(bars.at(-1)).toMatchObject({ requests: 12, start: TO - 24 * HOUR, height: 1 });
    expect(bars[0]!.start).toBe(u.from);
  });

  it('an odd count leaves the first bar short, never the last', () => {
    const bars = usageBars(usage(7, [1, 1, 1, 1, 1, 1, 1]), 3);
    expect(bars.map((b) => b.requests)).toEqual([1, 3, 3]);
  });

  it('nothing at all: flat bars', () => {
    expect(usageBars(usage(24)).every((b) => b.height === 0)).toBe(true);
  });
});

describe('usageSummary', () => {
  it('says what the chart shows', () => {
    expect(usageSummary(usage(24), '7 天')).toBe('近 7 天没有请求');
    expect(usageSummary(usage(24, [2, 3]), '7 天')).toBe('近 7 天共 5 次请求，失败 1 次，输入 50 Token，输出 100 Token');
  });
});

describe('KeyUsageDialog', () => {
  let h: Harness;
  let sut: KeyUsageDialog;

  beforeEach(() => {
    h = createHarness([{ provide: MAT_DIALOG_DATA, useValue: { id: 'ck/1', name: '团队' } }]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    sut = h.run(() => new KeyUsageDialog());
  });
  afterEach(() => {
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
  });

  it('loads 7 days at once, then the range picked, keeping the last chart while loading', () => {
    const first = h.http.expectOne((r) => r.url === '/api/stats/keys/ck%2F1');
    expect(first.request.params.get('range')).toBe('7d');
    expect(sut.busy()).toBe(true);
    first.flush(usage(7 * 24, [3]));
    expect(sut.busy()).toBe(false);
    expect(sut.bars()).toHaveLength(84);
    expect(sut.summary()).toBe('近 7 天共 3 次请求，失败 1 次，输入 30 Token，输出 60 Token');

    sut.load('90d');
    expect(sut.range()).toBe('90d');
    expect(sut.bars()).toHaveLength(84);
    const next = h.http.expectOne((r) => r.url === '/api/stats/keys/ck%2F1' && r.params.get('range') === '90d');
    next.flush(usage(90 * 24, [1], { range: '90d' }));
    expect(sut.bars()).toHaveLength(90);
    expect(sut.summary()).toMatch(/^近 90 天共 1 次请求/);
  });

  it('a newer pick cancels the older load; a failure is said, not thrown', () => {
    h.http.expectOne((r) => r.params.get('range') === '7d');
    sut.load('30d');
    sut.load('24h');
    expect(h.http.match((r) => r.params.get('range') === '30d')[0]!.cancelled).toBe(true);
    h.http.expectOne((r) => r.params.get('range') === '24h').flush({ error: { message: 'boom' } }, { status: 500, statusText: 'x' });
    expect(sut.busy()).toBe(false);
    expect(sut.error()).toMatch(/HTTP 500/);
    expect(sut.usage()).toBeNull();
  });
});

describe('KeyUsageButton', () => {
  it('opens the dialog for its key', () => {
    const dialog = new FakeDialog();
    const h = createHarness([{ provide: MatDialog, useValue: dialog }]);
    const button = h.run(() => new KeyUsageButton());
    setInput(button.key, clientKey('ck_9', { name: '机器人' }));
    button.open();
    expect(dialog.opened).toEqual([{ component: KeyUsageDialog, config: expect.objectContaining({ data: { id: 'ck_9', name: '机器人' } }) }]);
    h.destroy();
  });
});
