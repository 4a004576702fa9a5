import { jest } from '@jest/globals';
import { HttpErrorResponse } from '@angular/common/http';
import { Subject, of } from 'rxjs';
import { FakeDocument, MemoryStorage, createHarness } from '../../testing/harness';
import { PollingResource, type PollingOptions, pollingResource } from './polling';

const POLL = 5000;
const unreachable = () => new HttpErrorResponse({ status: 0, statusText: 'Unknown Error' });
const serverError = () => new HttpErrorResponse({ status: 500, statusText: 'Server Error' });
const unauthorized = () => new HttpErrorResponse({ status: 401, statusText: 'Unauthorized' });

describe('PollingResource', () => {
  let doc: FakeDocument;
  /** One subject per fetch, in order; a test answers them with next() / error(). */
  let calls: Subject<number>[];
  let resource: PollingResource<number>;

  function create(options: Partial<PollingOptions<number>> = {}): PollingResource<number> {
    resource = new PollingResource<number>(
      {
        intervalMs: POLL,
        fetch: () => {
          const s = new Subject<number>();
          calls.push(s);
          return s;
        },
        ...options,
      },
      doc,
    );
    return resource;
  }
  const last = () => calls.at(-1)!;

  beforeEach(() => {
    jest.useFakeTimers({ now: Date.UTC(2026, 10, 26, 6, 0) });
    doc = new FakeDocument(new MemoryStorage());
    calls = [];
  });
  afterEach(() => {
    resource.stop();
    jest.useRealTimers();
  });

  it('loads on start, then says ready with the time the data arrived', () => {
    create();
    expect(resource.status()).toBe('loading');
    expect(resource.busy()).toBe(false);
    resource.start();
    expect(calls).toHaveLength(1);
    expect(resource.busy()).toBe(true);
    jest.advanceTimersByTime(1234);
    last().next(7);
    expect(resource.status()).toBe('ready');
    expect(resource.data()).toBe(7);
    expect(resource.busy()).toBe(false);
    expect(resource.failure()).toBeNull();
    expect(resource.stale()).toBe(false);
    expect(resource.updatedAt()).toBe(Date.now());
    expect(resource.running).toBe(true);
  });

  it('polls every interval after each answer, and start() twice changes nothing', () => {
    create().start();
    resource.start();
    expect(calls).toHaveLength(1);
    last().next(1);
    jest.advanceTimersByTime(POLL - 1);
    expect(calls).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(calls).toHaveLength(2);
    // No poll while one is in flight.
    jest.advanceTimersByTime(POLL * 3);
    expect(calls).toHaveLength(2);
    last().next(2);
    jest.advanceTimersByTime(POLL);
    expect(calls).toHaveLength(3);
    expect(doc.count('visibilitychange')).toBe(1);
  });

  it('a first load that fails is unreachable or error, and keeps retrying', () => {
    create().start();
    last().error(unreachable());
    expect(resource.status()).toBe('unreachable');
    expect(resource.failure()?.kind).toBe('unreachable');
    expect(resource.busy()).toBe(false);
    expect(resource.updatedAt()).toBeNull();
    jest.advanceTimersByTime(POLL);
    last().error(serverError());
    expect(resource.status()).toBe('error');
    expect(resource.failure()?.message).toContain('500');
    jest.advanceTimersByTime(POLL);
    last().next(3);
    expect(resource.status()).toBe('ready');
    expect(resource.failure()).toBeNull();
  });

  it('keeps the last data after a failed poll (stale) and recovers with the next', () => {
    create().start();
    last().next(4);
    const at = resource.updatedAt();
    jest.advanceTimersByTime(POLL);
    last().error(unreachable());
    expect(resource.status()).toBe('ready');
    expect(resource.stale()).toBe(true);
    expect(resource.data()).toBe(4);
    expect(resource.updatedAt()).toBe(at);
    jest.advanceTimersByTime(POLL);
    last().next(5);
    expect(resource.stale()).toBe(false);
    expect(resource.data()).toBe(5);
  });

  it('stops polling on 401/403 (the interceptor has gone to 登录)', () => {
    create().start();
    last().error(unauthorized());
    expect(resource.failure()?.kind).toBe('unauthorized');
    jest.advanceTimersByTime(POLL * 3);
    expect(calls).toHaveLength(1);
  });

  it('refresh() cancels the fetch under way and restarts the interval', () => {
    create().start();
    last().next(1);
    jest.advanceTimersByTime(POLL - 1000);
    void resource.refresh();
    expect(calls).toHaveLength(2);
    const first = last();
    void resource.refresh();
    expect(first.observed).toBe(false);
    expect(calls).toHaveLength(3);
    expect(resource.busy()).toBe(true);
    last().next(2);
    jest.advanceTimersByTime(POLL - 1);
    expect(calls).toHaveLength(3);
    jest.advanceTimersByTime(1);
    expect(calls).toHaveLength(4);
  });

  it('skips polls while the tab is hidden and refreshes as soon as it is shown', () => {
    create().start();
    last().next(1);
    doc.hidden = true;
    jest.advanceTimersByTime(POLL * 3);
    expect(calls).toHaveLength(1);
    doc.dispatch('visibilitychange');
    expect(calls).toHaveLength(1);
    doc.hidden = false;
    doc.dispatch('visibilitychange');
    expect(calls).toHaveLength(2);
    last().next(2);
    expect(resource.data()).toBe(2);
  });

  it('stop() cancels the fetch, clears busy, stops polling and listening; the data stays', () => {
    create().start();
    last().next(1);
    jest.advanceTimersByTime(POLL);
    const inflight = last();
    resource.stop();
    expect(inflight.observed).toBe(false);
    expect(resource.busy()).toBe(false);
    expect(resource.running).toBe(false);
    expect(resource.data()).toBe(1);
    expect(doc.count('visibilitychange')).toBe(0);
    jest.advanceTimersByTime(POLL * 3);
    expect(calls).toHaveLength(2);
    // A refresh while stopped fetches once and schedules nothing.
    void resource.refresh();
    last().next(2);
    jest.advanceTimersByTime(POLL * 3);
    expect(calls).toHaveLength(3);
  });

  it('polls only while auto() says so; reschedule() drops the pending poll', () => {
    let auto = true;
    create({ auto: () => auto }).start();
    last().next(1);
    auto = false;
    resource.reschedule();
    jest.advanceTimersByTime(POLL * 3);
    expect(calls).toHaveLength(1);
    // Showing the tab does not refresh either.
    doc.dispatch('visibilitychange');
    expect(calls).toHaveLength(1);
    // A manual refresh works, and schedules nothing.
    void resource.refresh();
    last().next(2);
    jest.advanceTimersByTime(POLL * 3);
    expect(calls).toHaveLength(2);
    auto = true;
    resource.reschedule();
    jest.advanceTimersByTime(POLL);
    expect(calls).toHaveLength(3);
  });

  it('without an interval, fetches on demand only; refresh() resolves when settled or superseded', async () => {
    create({ intervalMs: null });
    resource.start();
    expect(doc.count('visibilitychange')).toBe(0);
    last().next(1);
    jest.advanceTimersByTime(POLL * 3);
    expect(calls).toHaveLength(1);

    let settled = 0;
    const first = resource.refresh().then(() => settled++);
    const second = resource.refresh().then(() => settled++);
    await first;
    expect(settled).toBe(1);
    last().error(serverError());
    await second;
    expect(settled).toBe(2);
    expect(resource.stale()).toBe(true);
  });

  it('a fetch of null asks for nothing: the fetch under way is dropped, nothing is scheduled', () => {
    let skip = false;
    const sources: Subject<number>[] = [];
    create({
      fetch: () => {
        if (skip) return null;
        const s = new Subject<number>();
        sources.push(s);
        return s;
      },
    }).start();
    skip = true;
    void resource.refresh();
    expect(sources[0]!.observed).toBe(false);
    expect(resource.busy()).toBe(false);
    jest.advanceTimersByTime(POLL * 3);
    expect(sources).toHaveLength(1);
  });

  it('takes synchronous answers, and data can be written by actions', () => {
    create({ fetch: () => of(9) }).start();
    expect(resource.data()).toBe(9);
    expect(resource.busy()).toBe(false);
    resource.data.set(10);
    expect(resource.status()).toBe('ready');
    jest.advanceTimersByTime(POLL);
    expect(resource.data()).toBe(9);
  });
});

describe('pollingResource()', () => {
  afterEach(() => jest.useRealTimers());

  it("watches the injector's document and stops when the injector is destroyed", () => {
    jest.useFakeTimers();
    const h = createHarness();
    let fetches = 0;
    const resource = h.run(() =>
      pollingResource({
        intervalMs: POLL,
        fetch: () => {
          fetches++;
          return of(fetches);
        },
      }),
    );
    resource.start();
    expect(h.document.count('visibilitychange')).toBe(1);
    jest.advanceTimersByTime(POLL);
    expect(fetches).toBe(2);
    h.destroy();
    expect(resource.running).toBe(false);
    expect(h.document.count('visibilitychange')).toBe(0);
    jest.advanceTimersByTime(POLL * 3);
    expect(fetches).toBe(2);
  });
});
