import { HttpErrorResponse } from '@angular/common/http';
import { Subject } from 'rxjs';
import type { StatsRange } from '#contracts';
import { createHarness, type Harness } from '../../../testing/harness';
import { RangeLoad } from './range-load';

describe('RangeLoad', () => {
  let h: Harness;
  let asked: Map<StatsRange, Subject<string>>;
  const make = (keepWhileLoading: boolean) =>
    h.run(
      () =>
        new RangeLoad<string>({
          fetch: (range) => {
            const answer = new Subject<string>();
            asked.set(range, answer);
            return answer;
          },
          initial: '24h',
          keepWhileLoading,
        }),
    );

  beforeEach(() => {
    h = createHarness();
    asked = new Map();
  });
  afterEach(() => h.destroy());

  it('shows the latest pick only: an earlier answer arriving late is dropped', () => {
    const sut = make(false);
    expect(sut.range()).toBe('24h');
    sut.load('24h');
    sut.load('7d');
    expect(sut.range()).toBe('7d');
    expect(asked.get('24h')!.observed).toBe(false);
    asked.get('24h')!.next('day');
    expect(sut.data()).toBeNull();
    expect(sut.busy()).toBe(true);
    asked.get('7d')!.next('week');
    expect(sut.data()).toBe('week');
    expect(sut.busy()).toBe(false);
  });

  it('a table clears while the next range loads; a chart keeps the last answer', () => {
    const table = make(false);
    table.load('24h');
    asked.get('24h')!.next('day');
    table.load('1h');
    expect(table.data()).toBeNull();

    const chart = make(true);
    chart.load('24h');
    asked.get('24h')!.next('day');
    chart.load('90d');
    expect(chart.data()).toBe('day');
    expect(chart.busy()).toBe(true);
  });

  it('says why a load failed, and the next pick clears it', () => {
    const sut = make(false);
    sut.load('7d');
    asked.get('7d')!.error(new HttpErrorResponse({ status: 500, statusText: 'Server Error', url: '/api/x' }));
    expect(sut.busy()).toBe(false);
    expect(sut.error()).toMatch(/HTTP 500/);
    sut.load('24h');
    expect(sut.error()).toBeNull();
  });

  it('drops the load under way when its view goes', () => {
    const sut = make(true);
    sut.load('7d');
    expect(asked.get('7d')!.observed).toBe(true);
    h.destroy();
    expect(asked.get('7d')!.observed).toBe(false);
    h = createHarness();
  });
});
