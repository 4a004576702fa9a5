import { jest } from '@jest/globals';
import type { TestRequest } from '@angular/common/http/testing';
import type { ClientKey } from '#contracts';
import { STORAGE_KEYS } from '../../core/browser';
import { createHarness, type Harness } from '../../../testing/harness';
import { clientKey, createdKey } from './keys.fixtures';
import { KEYS_POLL_MS, KeysStore } from './keys.store';

const POLL = 10_000;
const NETWORK_ERROR = { type: 'error' } as ProgressEvent;

describe('KeysStore', () => {
  let h: Harness;
  let store: KeysStore;

  /** The one live request to `url` with this method (taken from the testing backend). */
  function live(method = 'GET', url = '/api/keys'): TestRequest {
    const reqs = h.http.match((r) => r.url === url && r.method === method).filter((r) => !r.cancelled);
    expect(reqs).toHaveLength(1);
    return reqs[0]!;
  }
  const answer = (keys: ClientKey[]) => live().flush({ data: keys });

  beforeEach(() => {
    jest.useFakeTimers({ now: Date.UTC(2026, 10, 26, 6, 0) });
    h = createHarness([KeysStore, { provide: KEYS_POLL_MS, useValue: POLL }]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    store = h.get(KeysStore);
  });
  afterEach(() => {
    store.stop();
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
    jest.useRealTimers();
  });

  it('loads the keys, active first, and says what /v1 asks for', () => {
    expect(store.status()).toBe('loading');
    store.start();
    const req = live();
    expect(req.request.headers.get('Authorization')).toBe('Bearer tok');
    req.flush({ data: [clientKey('gone', { revoked: true, createdAt: 9 }), clientKey('a', { createdAt: 1 })] });
    expect(store.status()).toBe('ready');
    expect(store.rows().map((k) => k.id)).toEqual(['a', 'gone']);
    expect(store.counts()).toEqual({ total: 2, active: 1, revoked: 1 });
    expect(store.access()).toBe('keys-required');
    expect(store.updatedAt()).toBe(Date.now());
  });

  it('an empty list: /v1 is open unless API_KEY is set', () => {
    store.start();
    answer([]);
    expect(store.status()).toBe('ready');
    expect(store.access()).toBe('open-unless-env');
  });

  it('refreshes every 10 s, skipping polls while the tab is hidden', () => {
    store.start();
    answer([clientKey('a')]);
    jest.advanceTimersByTime(POLL - 1);
    expect(h.http.match('/api/keys')).toEqual([]);
    jest.advanceTimersByTime(1);
    answer([clientKey('a', { requests: 3 })]);
    expect(store.rows()[0]!.requests).toBe(3);

    h.document.hidden = true;
    jest.advanceTimersByTime(POLL * 3);
    expect(h.http.match('/api/keys')).toEqual([]);
    h.document.hidden = false;
    h.document.dispatch('visibilitychange');
    answer([clientKey('a', { requests: 4 })]);
    expect(store.rows()[0]!.requests).toBe(4);
  });

  it('keeps the last list when a refresh fails, says so, and recovers', () => {
    store.start();
    answer([clientKey('a')]);
    jest.advanceTimersByTime(POLL);
    live().error(NETWORK_ERROR);
    expect(store.status()).toBe('ready');
    expect(store.stale()).toBe(true);
    expect(store.failure()?.kind).toBe('unreachable');
    jest.advanceTimersByTime(POLL);
    answer([clientKey('a')]);
    expect(store.stale()).toBe(false);
  });

  it('a first load that fails: unreachable or error, retried', () => {
    store.start();
    live().error(NETWORK_ERROR);
    expect(store.status()).toBe('unreachable');
    jest.advanceTimersByTime(POLL);
    live().flush({ error: { message: 'boom', type: 'server_error', param: null, code: null } }, { status: 500, statusText: 'Server Error' });
    expect(store.status()).toBe('error');
    expect(store.failure()?.message).toContain('500');
  });

  it('stops polling on 401 (the interceptor has gone to 登录)', () => {
    store.start();
    live().flush({ error: { message: 'no', type: 'authentication_error', param: null, code: null } }, { status: 401, statusText: 'Unauthorized' });
    jest.advanceTimersByTime(POLL * 3);
    expect(h.http.match('/api/keys')).toEqual([]);
  });

  it('creates a key: shown at once (without its secret), then the list is read again', () => {
    store.start();
    answer([clientKey('old')]);
    let secret = '';
    store.create({ name: '团队 A', rpmLimit: 60 }).subscribe((k) => (secret = k.secret));
    const post = live('POST');
    expect(post.request.body).toEqual({ name: '团队 A', rpmLimit: 60 });
    post.flush(createdKey('new', { name: '团队 A', rpmLimit: 60 }));
    expect(secret).toMatch(/^sk-g4f-/);
    expect(store.rows().map((k) => k.id)).toEqual(['new', 'old']);
    expect(store.keys()!.some((k) => 'secret' in k)).toBe(false);
    answer([clientKey('new'), clientKey('old')]);
  });

  it('edits and revokes a key, updating the row and refreshing', () => {
    store.start();
    answer([clientKey('a')]);
    store.update('a', { name: 'B', rpmLimit: null }).subscribe();
    const patch = live('PATCH', '/api/keys/a');
    expect(patch.request.body).toEqual({ name: 'B', rpmLimit: null });
    patch.flush(clientKey('a', { name: 'B' }));
    expect(store.rows()[0]!.name).toBe('B');
    answer([clientKey('a', { name: 'B' })]);

    store.revoke('a').subscribe();
    live('DELETE', '/api/keys/a').flush(clientKey('a', { name: 'B', revoked: true, revokedAt: Date.now() }));
    expect(store.rows()[0]!.revoked).toBe(true);
    expect(store.access()).toBe('all-revoked');
    answer([clientKey('a', { revoked: true })]);
  });

  it('a failed action leaves the list alone and reports to the caller', () => {
    store.start();
    answer([clientKey('a')]);
    let failed = false;
    store.revoke('a').subscribe({ error: () => (failed = true) });
    live('DELETE', '/api/keys/a').flush(
      { error: { message: "No API key with id 'a'.", type: 'invalid_request_error', param: 'id', code: 'client_key_not_found' } },
      { status: 404, statusText: 'Not Found' },
    );
    expect(failed).toBe(true);
    expect(store.rows()[0]!.revoked).toBe(false);
  });
});
