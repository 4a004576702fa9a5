import { jest } from '@jest/globals';
import { ViewContainerRef } from '@angular/core';
import type { TestRequest } from '@angular/common/http/testing';
import { MatDialog } from '@angular/material/dialog';
import { MatSnackBar } from '@angular/material/snack-bar';
import type { MatSlideToggleChange } from '@angular/material/slide-toggle';
import type { ProviderDetail } from '#contracts';
import { createHarness, type Harness } from '../../../testing/harness';
import { provider } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import { ConfirmDialog } from '../../shared/confirm-dialog/confirm-dialog';
import { Notice } from './notice';
import { ProviderDialog } from './provider-dialog';
import ProvidersPage from './providers';
import { FakeDialog, FakeSnackBar } from './providers.testing';
import type { ProviderRow } from './providers-view';
import { PROVIDERS_POLL_MS, ProvidersStore } from './providers.store';
import { UpstreamDialog } from './upstream-dialog';

interface PageView {
  store: ProvidersStore;
  pollSeconds: number;
  ngOnInit(): void;
  setEnabled(row: ProviderRow, change: MatSlideToggleChange): Promise<void>;
  check(row: ProviderRow): Promise<void>;
  checkAll(): Promise<void>;
  open(row: ProviderRow, tab: 'keys' | 'settings'): void;
  addUpstream(): void;
  deleteUpstream(row: ProviderRow): void;
}

const NOW = Date.UTC(2026, 10, 26, 6, 0);
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('ProvidersPage', () => {
  let h: Harness;
  let page: PageView;
  let snack: FakeSnackBar;
  let dialog: FakeDialog;

  function live(url: string, method = 'GET'): TestRequest {
    const reqs = h.http.match((r) => r.url === url && r.method === method).filter((r) => !r.cancelled);
    expect(reqs).toHaveLength(1);
    return reqs[0]!;
  }
  const list = (...providers: ProviderDetail[]) => live('/api/providers').flush(providers);
  const row = (name: string) => page.store.rows().find((r) => r.name === name)!;

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
    snack = new FakeSnackBar();
    dialog = new FakeDialog();
    h = createHarness([
      ProvidersStore,
      Notice,
      { provide: PROVIDERS_POLL_MS, useValue: 4000 },
      { provide: MatSnackBar, useValue: snack },
      { provide: MatDialog, useValue: dialog },
      { provide: ViewContainerRef, useValue: {} },
    ]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    page = h.run(() => new ProvidersPage()) as unknown as PageView;
    page.ngOnInit();
    list(
      provider('DeepInfra'),
      provider('Home', 'available', { custom: true, upstream: { source: 'console', models: { m: 'm' }, ownedBy: null, samplingParams: [] } }),
    );
  });
  afterEach(() => {
    page.store.stop();
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
    jest.useRealTimers();
  });

  it('polls the providers while open', () => {
    expect(page.pollSeconds).toBe(4);
    expect(page.store.status()).toBe('ready');
    jest.advanceTimersByTime(4000);
    list(provider('DeepInfra'));
    expect(page.store.rows()).toHaveLength(1);
  });

  it('switches a provider off and says so', async () => {
    const source = { checked: false };
    const done = page.setEnabled(row('DeepInfra'), { checked: false, source } as unknown as MatSlideToggleChange);
    live('/api/providers/DeepInfra', 'PATCH').flush(provider('DeepInfra', 'disabled', { enabled: false }));
    await done;
    expect(snack.messages).toEqual(['已停用 DeepInfra：不再参与路由']);
    expect(source.checked).toBe(false);
    list(provider('DeepInfra', 'disabled', { enabled: false }));
  });

  it('puts the switch back when the server refuses, and says why', async () => {
    const source = { checked: false };
    const done = page.setEnabled(row('DeepInfra'), { checked: false, source } as unknown as MatSlideToggleChange);
    live('/api/providers/DeepInfra', 'PATCH').error({ type: 'error' } as ProgressEvent, { status: 0, statusText: 'Unknown Error' });
    await done;
    expect(source.checked).toBe(true);
    expect(snack.messages[0]).toMatch(/^停用 DeepInfra 失败：无法连接到服务器/);
  });

  it('checks one provider and reports what was tested and the verdict', async () => {
    const check = { provider: 'DeepInfra', latencyMs: 42, checkedAt: NOW, probe: 'chat' as const, model: 'gemma-3-4b' };
    const answers = [
      { ...check, ok: true, error: null },
      { ...check, ok: false, error: 'HTTP 503' },
      { ...check, probe: 'models' as const, model: null, ok: true, error: null },
    ];
    for (const lastCheck of answers) {
      const done = page.check(row('DeepInfra'));
      live('/api/providers/DeepInfra/health', 'POST').flush(provider('DeepInfra', 'available', { lastCheck }));
      await done;
      list(provider('DeepInfra'));
    }
    expect(snack.messages).toEqual([
      'DeepInfra：对话 1 token（gemma-3-4b），通过，42 ms',
      'DeepInfra：对话 1 token（gemma-3-4b），失败：HTTP 503',
      'DeepInfra：只读取模型列表（未测试推理），成功，42 ms',
    ]);
  });

  it('checks them all and counts the verdicts', async () => {
    const r = (ok: boolean) => ({ provider: 'X', ok, latencyMs: 1, checkedAt: NOW, error: ok ? null : 'x', probe: 'models' as const });
    let done = page.checkAll();
    live('/api/health/check', 'POST').flush({ results: [r(true), r(false), r(true)] });
    await done;
    list(provider('DeepInfra'));
    done = page.checkAll();
    live('/api/health/check', 'POST').flush({ results: [] });
    await done;
    list(provider('DeepInfra'));
    expect(snack.messages).toEqual(['已检查 3 个提供商：2 个通过，1 个失败', '没有可检查的提供商：已停用或未配置的提供商不做检查']);
  });

  it('opens a provider’s dialog on the tab asked for, and the new-upstream dialog', () => {
    page.open(row('DeepInfra'), 'keys');
    page.addUpstream();
    expect(dialog.opened.map((d) => d.component)).toEqual([ProviderDialog, UpstreamDialog]);
    expect(dialog.opened[0]!.config).toMatchObject({ data: { name: 'DeepInfra', tab: 'keys' }, width: '720px' });
  });

  it('deletes an upstream after asking', async () => {
    dialog.result = false;
    page.deleteUpstream(row('Home'));
    await settle();
    h.http.expectNone('/api/upstreams/Home');

    dialog.result = true;
    page.deleteUpstream(row('Home'));
    expect(dialog.opened.map((d) => d.component)).toEqual([ConfirmDialog, ConfirmDialog]);
    expect((dialog.opened[1]!.config['data'] as { message: string }).message).toContain('它的 3 个模型');
    live('/api/upstreams/Home', 'DELETE').flush(null, { status: 204, statusText: 'No Content' });
    await settle();
    expect(page.store.rows().map((r) => r.name)).toEqual(['DeepInfra']);
    expect(snack.messages).toEqual(['已删除上游 Home']);
    list(provider('DeepInfra'));
  });
});
