import { jest } from '@jest/globals';
import type { TestRequest } from '@angular/common/http/testing';
import { MAT_DIALOG_DATA, MatDialogRef } from '@angular/material/dialog';
import { MatSnackBar } from '@angular/material/snack-bar';
import type { ProviderQuotaList, ProviderQuotaView, QuotaUsage } from '#contracts';
import { createHarness, type Harness } from '../../../testing/harness';
import { provider } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import { Notice } from './notice';
import { FakeSnackBar } from './providers.testing';
import { PROVIDERS_POLL_MS, ProvidersStore } from './providers.store';
import { QuotaDialog, type QuotaDialogData } from './quota-dialog';

type DialogView = Omit<QuotaDialog, never> & { fieldError(control: unknown, field: string): string };

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};
const usage = (limit: string, max: number | null): QuotaUsage => ({ limit, used: 3, max, remaining: max === null ? null : max - 3, resetAt: 0 });

function quotas(keyOverride: Record<string, unknown> | null = null): ProviderQuotaList {
  const max = typeof keyOverride?.['requests/day'] === 'number' ? (keyOverride['requests/day'] as number) : null;
  const view: ProviderQuotaView = {
    provider: 'deepinfra',
    name: 'DeepInfra',
    limits: {},
    timeZone: 'UTC',
    resetHour: 0,
    creditWindow: null,
    override: null,
    usage: [],
    keys: [
      {
        id: 'k1',
        masked: '****x9f2',
        override: keyOverride,
        quota: { usage: [usage('requests/day', max), usage('tokens/day', null)], upstream: null, restingUntil: null, restReason: null, headroom: 1 },
      },
    ],
  };
  return { providers: [view] };
}

describe('QuotaDialog', () => {
  let h: Harness;
  let snack: FakeSnackBar;
  let closed: unknown[];
  let store: ProvidersStore;

  function live(url: string, method = 'GET'): TestRequest {
    const reqs = h.http.match((r) => r.url === url && r.method === method).filter((r) => !r.cancelled);
    expect(reqs).toHaveLength(1);
    return reqs[0]!;
  }

  function setup(data: QuotaDialogData): DialogView {
    snack = new FakeSnackBar();
    closed = [];
    h = createHarness([
      ProvidersStore,
      Notice,
      { provide: PROVIDERS_POLL_MS, useValue: 60_000 },
      { provide: MatSnackBar, useValue: snack },
      { provide: MAT_DIALOG_DATA, useValue: data },
      { provide: MatDialogRef, useValue: { close: (v: unknown) => closed.push(v) } },
    ]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    store = h.get(ProvidersStore);
    store.start();
    live('/api/providers').flush([provider('DeepInfra')]);
    const d = h.run(() => new QuotaDialog()) as unknown as DialogView;
    d.ngOnInit();
    return d;
  }

  afterEach(() => {
    store.stop();
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
    jest.useRealTimers();
  });

  it('shows a key’s limits in effect ("未知" where none is known) and saves the one typed', async () => {
    const d = setup({ provider: 'DeepInfra', keyId: 'k1', masked: '****x9f2' });
    expect(d.value()).toBeNull();
    live('/api/quotas').flush(quotas());
    await settle();
    const rows = d.value()!.rows;
    expect(rows.find((r) => r.limit === 'requests/day')).toMatchObject({ current: '未知', value: '' });
    expect(d.hasOverride()).toBe(false);

    d.limitControls.at(rows.findIndex((r) => r.limit === 'requests/day')).setValue('100');
    void d.save();
    const put = live('/api/quotas/DeepInfra/keys/k1', 'PUT');
    expect(put.request.body).toEqual({ 'requests/day': 100 });
    put.flush(quotas({ 'requests/day': 100 }));
    await settle();
    expect(snack.messages).toEqual(['已保存密钥 ****x9f2 的额度设置']);
    expect(closed).toEqual([true]);
    // The key rows follow at once, not at the next poll.
    live('/api/providers').flush([provider('DeepInfra')]);
  });

  it('checks a limit before sending, and shows the API’s objection in Chinese under its field', async () => {
    const d = setup({ provider: 'DeepInfra', keyId: null });
    live('/api/quotas').flush(quotas());
    await settle();
    const i = d.value()!.rows.findIndex((r) => r.limit === 'tokens/minute');
    d.limitControls.at(i).setValue('lots');
    await d.save();
    h.http.expectNone('/api/quotas/DeepInfra');
    expect(d.fieldError(d.limitControls.at(i), 'tokens/minute')).toBe('请输入 0 到 1 万亿之间的整数，留空表示不设置');

    d.limitControls.at(i).setValue('');
    d.form.controls.timeZone.setValue('Mars/Olympus');
    void d.save();
    const put = live('/api/quotas/DeepInfra', 'PUT');
    expect(put.request.body).toEqual({ timeZone: 'Mars/Olympus' });
    put.flush(
      {
        error: {
          message: 'limits.timeZone must be an IANA time zone such as "UTC" or "America/Los_Angeles"',
          type: 'invalid_request_error',
          param: 'body',
          code: 'invalid_value',
        },
      },
      { status: 400, statusText: 'Bad Request' },
    );
    await settle();
    expect(d.fieldError(d.form.controls.timeZone, 'timeZone')).toBe('时区无效：请填写 IANA 时区名，如 UTC、Asia/Shanghai 或 America/Los_Angeles');
    expect(closed).toEqual([]);
    expect(d.saving()).toBe(false);
  });

  it('恢复默认 drops the console’s setting of a key', async () => {
    const d = setup({ provider: 'DeepInfra', keyId: 'k1', masked: '****x9f2' });
    live('/api/quotas').flush(quotas({ 'requests/day': 100 }));
    await settle();
    expect(d.hasOverride()).toBe(true);
    expect(d.value()!.rows.find((r) => r.limit === 'requests/day')).toMatchObject({ current: '100', value: '100' });
    void d.restore();
    live('/api/quotas/DeepInfra/keys/k1', 'DELETE').flush(quotas());
    await settle();
    expect(snack.messages).toEqual(['密钥 ****x9f2 的额度已恢复默认']);
    expect(closed).toEqual([true]);
    live('/api/providers').flush([provider('DeepInfra')]);
  });

  it('says so when the key is gone or the limits cannot be read', async () => {
    const d = setup({ provider: 'DeepInfra', keyId: 'gone' });
    live('/api/quotas').flush(quotas());
    await settle();
    expect(d.failure()).toBe('这个密钥已不存在（可能刚被删除）。');
    void d.load();
    live('/api/quotas').flush({ error: { message: 'boom', type: 'server_error' } }, { status: 500, statusText: 'Internal Server Error' });
    await settle();
    expect(d.failure()).toBe('读取额度失败：服务器出错（HTTP 500），请稍后重试。');
  });
});
