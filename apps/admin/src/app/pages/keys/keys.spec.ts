import { jest } from '@jest/globals';
import { Clipboard } from '@angular/cdk/clipboard';
import { BreakpointObserver } from '@angular/cdk/layout';
import { MAT_DIALOG_DATA, MatDialog, MatDialogRef } from '@angular/material/dialog';
import { MatSnackBar } from '@angular/material/snack-bar';
import { Subject, of, throwError } from 'rxjs';
import { HttpErrorResponse } from '@angular/common/http';
import type { ClientKey } from '#contracts';
import { STORAGE_KEYS } from '../../core/browser';
import { createHarness, type Harness } from '../../../testing/harness';
import { ConfirmDialog } from '../../shared/confirm-dialog/confirm-dialog';
import { KeyFormDialog, type KeyFormDialogData } from './key-form-dialog';
import { KeySecretDialog, type KeySecretDialogData } from './key-secret-dialog';
import KeysPage from './keys';
import { NO_LIMITS, clientKey, createdKey } from './keys.fixtures';
import { emptyKeyForm } from './keys-view';
import { KEYS_POLL_MS, KeysStore } from './keys.store';

interface Opened {
  component: unknown;
  config: { data?: unknown; disableClose?: boolean };
  closed: Subject<unknown>;
}

/** MatDialog's part the page uses: each open() is recorded; the test closes it with a result. */
class FakeDialog {
  readonly opened: Opened[] = [];
  open(component: unknown, config: Opened['config'] = {}) {
    const closed = new Subject<unknown>();
    this.opened.push({ component, config, closed });
    return { afterClosed: () => closed.asObservable() };
  }
  close(i: number, result: unknown): void {
    this.opened[i]!.closed.next(result);
    this.opened[i]!.closed.complete();
  }
}

class FakeSnackBar {
  readonly messages: string[] = [];
  open(message: string): void {
    this.messages.push(message);
  }
}

interface KeysView {
  store: KeysStore;
  pollSeconds: number;
  ngOnInit(): void;
  create(): void;
  edit(key: ClientKey): void;
  revoke(key: ClientKey): void;
}

describe('KeysPage', () => {
  let h: Harness;
  let page: KeysView;
  let dialog: FakeDialog;
  let snack: FakeSnackBar;

  beforeEach(() => {
    jest.useFakeTimers();
    dialog = new FakeDialog();
    snack = new FakeSnackBar();
    h = createHarness([
      KeysStore,
      { provide: KEYS_POLL_MS, useValue: 10_000 },
      { provide: MatDialog, useValue: dialog },
      { provide: MatSnackBar, useValue: snack },
      // No media queries here: a desktop-width window.
      { provide: BreakpointObserver, useValue: { observe: () => of({ matches: false, breakpoints: {} }) } },
    ]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    page = h.run(() => new KeysPage()) as unknown as KeysView;
  });
  afterEach(() => {
    page.store.stop();
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
    jest.useRealTimers();
  });

  const answer = (keys: ClientKey[]) => h.http.expectOne('/api/keys').flush({ data: keys });

  it('creates the first key: the form warns that /v1 will need keys, then the secret is shown once', () => {
    expect(page.pollSeconds).toBe(10);
    page.ngOnInit();
    answer([]);
    page.create();
    expect(dialog.opened[0]!.component).toBe(KeyFormDialog);
    const data = dialog.opened[0]!.config.data as KeyFormDialogData;
    expect(data).toMatchObject({ key: null, first: true });

    // The form's submit creates the key through the store.
    let created: unknown;
    data.submit({ name: '团队 A', rpmLimit: null }).subscribe((k) => (created = k));
    h.http.expectOne((r) => r.method === 'POST' && r.url === '/api/keys').flush(createdKey('ck_1', { name: '团队 A' }));
    answer([clientKey('ck_1', { name: '团队 A' })]);
    dialog.close(0, created);

    expect(dialog.opened[1]!.component).toBe(KeySecretDialog);
    expect(dialog.opened[1]!.config.disableClose).toBe(true);
    const secret = dialog.opened[1]!.config.data as KeySecretDialogData;
    expect(secret.key.secret).toMatch(/^sk-g4f-/);
    expect(secret.origin).toBe('http://pool.test:8080');
  });

  it('a second key is not "the first"; a cancelled form shows nothing', () => {
    page.ngOnInit();
    answer([clientKey('a')]);
    page.create();
    expect((dialog.opened[0]!.config.data as KeyFormDialogData).first).toBe(false);
    dialog.close(0, undefined);
    expect(dialog.opened).toHaveLength(1);
  });

  it('edits a key and says so', () => {
    page.ngOnInit();
    const key = clientKey('a', { name: 'A', rpmLimit: 10 });
    answer([key]);
    page.edit(key);
    const data = dialog.opened[0]!.config.data as KeyFormDialogData;
    expect(data.key).toBe(key);
    data.submit({ name: 'B', rpmLimit: 20 }).subscribe((k) => dialog.close(0, k));
    const patch = h.http.expectOne((r) => r.method === 'PATCH');
    expect(patch.request.url).toBe('/api/keys/a');
    patch.flush(clientKey('a', { name: 'B', rpmLimit: 20 }));
    answer([clientKey('a', { name: 'B', rpmLimit: 20 })]);
    expect(snack.messages).toEqual(['已保存「B」']);
  });

  it('revokes only after confirmation', () => {
    page.ngOnInit();
    const key = clientKey('a', { name: 'A' });
    answer([key]);

    page.revoke(key);
    expect(dialog.opened[0]!.component).toBe(ConfirmDialog);
    expect(dialog.opened[0]!.config.data).toMatchObject({ title: '吊销密钥「A」？', confirm: '吊销', danger: true });
    dialog.close(0, false);
    expect(h.http.match((r) => r.method === 'DELETE')).toEqual([]);

    page.revoke(key);
    dialog.close(1, true);
    h.http.expectOne((r) => r.method === 'DELETE' && r.url === '/api/keys/a').flush(clientKey('a', { name: 'A', revoked: true }));
    answer([clientKey('a', { name: 'A', revoked: true })]);
    expect(snack.messages).toEqual(['已吊销「A」']);
    expect(page.store.access()).toBe('all-revoked');
  });

  it('says when a revocation fails', () => {
    page.ngOnInit();
    const key = clientKey('a', { name: 'A' });
    answer([key]);
    page.revoke(key);
    dialog.close(0, true);
    h.http.expectOne((r) => r.method === 'DELETE').error({ type: 'error' } as ProgressEvent);
    expect(snack.messages[0]).toMatch(/^吊销失败：无法连接到服务器/);
  });
});

describe('KeyFormDialog', () => {
  let h: Harness;
  const ref = { close: jest.fn(), disableClose: false };

  function open(data: Partial<KeyFormDialogData>): KeyFormDialog {
    ref.close.mockReset();
    h = createHarness([
      { provide: MAT_DIALOG_DATA, useValue: { key: null, first: false, submit: () => of(null), ...data } },
      { provide: MatDialogRef, useValue: ref },
    ]);
    return h.run(() => new KeyFormDialog());
  }
  afterEach(() => h.destroy());

  it('checks the fields before sending', () => {
    const submit = jest.fn(() => of(createdKey('x')));
    const form = open({ submit });
    form.form.patchValue({ name: '   ', rpmLimit: '0', tokensPerDay: '1.5', allowedIps: '10.0.0.0/33' });
    form.save();
    expect(submit).not.toHaveBeenCalled();
    expect(form.form.controls.name.errors).toEqual({ message: '请填写名称。' });
    expect(form.form.controls.rpmLimit.errors?.['message']).toContain('1 到 1,000,000');
    expect(form.form.controls.tokensPerDay.errors?.['message']).toContain('整数');
    expect(form.form.controls.allowedIps.errors?.['message']).toContain('10.0.0.0/33');

    form.form.patchValue({
      name: ' 团队 A ',
      rpmLimit: ' 60 ',
      tokensPerDay: '1000',
      requestsTotal: '50',
      allowedIps: '10.0.0.0/8\n2001:db8::/32',
      allowedModels: 'gpt-4o*, house-model',
      concurrencyLimit: '2',
      expiresAt: '2030-01-02T03:04',
    });
    form.save();
    expect(submit).toHaveBeenCalledWith({
      ...NO_LIMITS,
      name: '团队 A',
      rpmLimit: 60,
      tokensPerDay: 1000,
      requestsTotal: 50,
      allowedIps: ['10.0.0.0/8', '2001:db8::/32'],
      allowedModels: ['gpt-4o*', 'house-model'],
      concurrencyLimit: 2,
      expiresAt: new Date(2030, 0, 2, 3, 4).getTime(),
    });
    expect(ref.close).toHaveBeenCalledWith(createdKey('x'));
  });

  it('starts from the key being edited; an empty limit removes it', () => {
    const submit = jest.fn(() => of(clientKey('a')));
    const expiresAt = new Date(2031, 5, 7, 8, 9).getTime();
    const form = open({ key: clientKey('a', { name: 'A', rpmLimit: 30, requestsPerMonth: 900, allowedModels: ['a', 'b*'], expiresAt }), submit });
    expect(form.form.getRawValue()).toEqual({
      ...emptyKeyForm(),
      name: 'A',
      rpmLimit: '30',
      requestsPerMonth: '900',
      allowedModels: 'a\nb*',
      expiresAt: '2031-06-07T08:09',
    });
    form.form.patchValue({ rpmLimit: '', allowedModels: '' });
    form.save();
    expect(submit).toHaveBeenCalledWith({ ...NO_LIMITS, name: 'A', requestsPerMonth: 900, expiresAt });
  });

  it("shows the API's error and stays open", () => {
    const body = { error: { message: 'name must not be empty', type: 'invalid_request_error', param: 'name', code: null } };
    const form = open({ submit: () => throwError(() => new HttpErrorResponse({ status: 400, error: body })) });
    form.form.patchValue({ name: 'A', rpmLimit: '' });
    form.save();
    expect(ref.close).not.toHaveBeenCalled();
    expect(form.saving()).toBe(false);
    expect(form.error()).toMatchObject({ message: '请求失败（HTTP 400）。', detail: 'name must not be empty' });
    expect(ref.disableClose).toBe(false);
  });
});

describe('KeySecretDialog', () => {
  it('copies the secret and says so for a moment', () => {
    jest.useFakeTimers();
    const copy = jest.fn(() => true);
    const h = createHarness([
      { provide: MAT_DIALOG_DATA, useValue: { key: createdKey('a'), origin: 'http://pool.test:8080' } },
      { provide: Clipboard, useValue: { copy } },
    ]);
    const d = h.run(() => new KeySecretDialog());
    d.copy('secret', 'sk-g4f-abc');
    expect(copy).toHaveBeenCalledWith('sk-g4f-abc');
    expect(d.copied()).toBe('secret');
    jest.advanceTimersByTime(2000);
    expect(d.copied()).toBeNull();
    h.destroy();
    jest.useRealTimers();
  });
});
