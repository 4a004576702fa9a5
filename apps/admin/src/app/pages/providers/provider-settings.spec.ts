import { jest } from '@jest/globals';
import type { TestRequest } from '@angular/common/http/testing';
import type { AbstractControl } from '@angular/forms';
import { MatSnackBar } from '@angular/material/snack-bar';
import type { ProviderDetail } from '#contracts';
import { createHarness, type Harness } from '../../../testing/harness';
import { provider } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import { Notice } from './notice';
import { ProviderSettings } from './provider-settings';
import { FakeSnackBar, setInput } from './providers.testing';
import { PROVIDERS_POLL_MS, ProvidersStore } from './providers.store';

type SettingsView = Omit<ProviderSettings, never> & {
  extraKeys(): string[];
  asksKey(): boolean;
  changed(): boolean;
  overridden(): Set<string>;
  fieldError(control: AbstractControl | null, field: string): string;
};

describe('ProviderSettings', () => {
  let h: Harness;
  let form: SettingsView;
  let store: ProvidersStore;
  let snack: FakeSnackBar;
  const cloudflare = provider('CloudflareAI', 'available', {
    baseUrl: 'https://api.cloudflare.com/client/v4',
    proxy: 'http://me:****@proxy:7890',
    priority: 2,
    extra: { accountId: 'acct-1' },
    requiredExtra: ['accountId'],
    overridden: ['proxy', 'priority'],
  });

  function live(url: string, method = 'GET'): TestRequest {
    const reqs = h.http.match((r) => r.url === url && r.method === method).filter((r) => !r.cancelled);
    expect(reqs).toHaveLength(1);
    return reqs[0]!;
  }
  const list = (...providers: ProviderDetail[]) => live('/api/providers').flush(providers);

  beforeEach(() => {
    jest.useFakeTimers();
    snack = new FakeSnackBar();
    h = createHarness([ProvidersStore, Notice, { provide: PROVIDERS_POLL_MS, useValue: 60_000 }, { provide: MatSnackBar, useValue: snack }]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    store = h.get(ProvidersStore);
    store.start();
    list(cloudflare);
    form = h.run(() => new ProviderSettings()) as unknown as SettingsView;
    setInput(form.provider, cloudflare);
    form.ngOnInit();
  });
  afterEach(() => {
    store.stop();
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
    jest.useRealTimers();
  });

  it('starts with the settings in effect, and nothing to save', () => {
    expect(form.form.getRawValue()).toEqual({
      baseUrl: 'https://api.cloudflare.com/client/v4',
      proxy: 'http://me:****@proxy:7890',
      priority: '2',
      weight: '',
      extra: { accountId: 'acct-1' },
      key: '',
    });
    expect(form.extraKeys()).toEqual(['accountId']);
    expect(form.changed()).toBe(false);
    expect(form.form.valid).toBe(true);
    expect([...form.overridden()]).toEqual(['proxy', 'priority']);
  });

  it('refuses bad values in the form, and sends nothing', async () => {
    form.form.controls.baseUrl.setValue('not a url');
    form.form.controls.priority.setValue('-3');
    form.form.controls.proxy.setValue('http://me:****@proxy:9999');
    await form.save();
    expect(form.fieldError(form.form.controls.baseUrl, 'baseUrl')).toContain('http://');
    expect(form.fieldError(form.form.controls.priority, 'priority')).toContain('正整数');
    expect(form.fieldError(form.form.controls.proxy, 'proxy')).toContain('代理密码已隐藏');
    form.form.controls.baseUrl.setValue('');
    expect(form.fieldError(form.form.controls.baseUrl, 'baseUrl')).toBe('必填');
    h.http.expectNone('/api/providers/CloudflareAI');
  });

  it('saves only what changed, and starts again from the answer', async () => {
    form.form.controls.priority.setValue('0');
    form.form.controls.extra.controls['accountId']!.setValue('acct-2');
    expect(form.patch()).toEqual({ priority: 0, extra: { accountId: 'acct-2' } });
    const done = form.save();
    expect(form.saving()).toBe(true);
    const req = live('/api/providers/CloudflareAI', 'PATCH');
    expect(req.request.body).toEqual({ priority: 0, extra: { accountId: 'acct-2' } });
    const saved = { ...cloudflare, priority: 0, extra: { accountId: 'acct-2' }, overridden: ['proxy' as const, 'priority' as const, 'extra' as const] };
    req.flush(saved);
    await done;
    expect(form.saving()).toBe(false);
    expect(form.changed()).toBe(false);
    expect(form.form.getRawValue().priority).toBe('0');
    expect(snack.messages).toEqual(['已保存 CloudflareAI 的设置']);
    list(saved);
  });

  it('puts the API’s objection under its field', async () => {
    form.form.controls.baseUrl.setValue('http://127.0.0.1:9/v4');
    const done = form.save();
    live('/api/providers/CloudflareAI', 'PATCH').flush(
      { error: { message: "Invalid value for 'baseUrl': nope.", type: 'invalid_request_error', param: 'baseUrl', code: 'invalid_value' } },
      { status: 400, statusText: 'Bad Request' },
    );
    await done;
    expect(form.fieldError(form.form.controls.baseUrl, 'baseUrl')).toBe("服务器拒绝了这个请求：Invalid value for 'baseUrl': nope.");
    // Typing again clears it.
    form.form.controls.baseUrl.setValue('http://127.0.0.1:10/v4');
    expect(form.form.controls.baseUrl.valid).toBe(true);
  });

  it('asks for the new host’s key when the address moves to another host, and sends it along', async () => {
    form.form.controls.baseUrl.setValue('https://api.cloudflare.com/client/v5');
    expect(form.asksKey()).toBe(false);
    form.form.controls.baseUrl.setValue('https://cf-mirror.example/client/v4');
    expect(form.asksKey()).toBe(true);

    // Without the key the API refuses: the reason goes under the key field.
    let done = form.save();
    live('/api/providers/CloudflareAI', 'PATCH').flush(
      { error: { message: 'Moving CloudflareAI …', type: 'invalid_request_error', param: 'key', code: 'key_required_for_new_host' } },
      { status: 400, statusText: 'Bad Request' },
    );
    await done;
    expect(form.fieldError(form.form.controls.key, 'key')).toContain('请同时输入新主机的 API 密钥');

    form.form.controls.key.setValue(' cf-mirror-key-0001 ');
    done = form.save();
    const req = live('/api/providers/CloudflareAI', 'PATCH');
    expect(req.request.body).toEqual({ baseUrl: 'https://cf-mirror.example/client/v4', key: 'cf-mirror-key-0001' });
    const saved = { ...cloudflare, baseUrl: 'https://cf-mirror.example/client/v4' };
    req.flush(saved);
    await done;
    expect(form.form.getRawValue().key).toBe('');
    expect(form.asksKey()).toBe(false);
    list(saved);
  });

  it('resets one setting to the environment’s, keeping what else is typed', async () => {
    form.form.controls.baseUrl.setValue('http://typed.example/v4');
    const done = form.reset('priority');
    const req = live('/api/providers/CloudflareAI', 'PATCH');
    expect(req.request.body).toEqual({ priority: null });
    const after = { ...cloudflare, priority: null, overridden: ['proxy' as const] };
    req.flush(after);
    await done;
    expect(form.form.getRawValue()).toMatchObject({ priority: '', baseUrl: 'http://typed.example/v4' });
    expect(snack.messages).toEqual(['CloudflareAI 的优先级已恢复为环境变量（或默认）的设置']);
    list(after);
  });
});
