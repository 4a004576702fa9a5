import { ChangeDetectionStrategy, Component, Injector, computed, inject, input, signal, viewChild } from '@angular/core';
import { FormControl, FormGroup, FormGroupDirective, ReactiveFormsModule, Validators } from '@angular/forms';
import type { ProviderDetail } from '#contracts';
import { MatButtonModule } from '@angular/material/button';
import { MatDialog } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatProgressSpinnerModule } from '@angular/material/progress-spinner';
import { MatTooltipModule } from '@angular/material/tooltip';
import { formatDuration } from '../../core/format';
import { type QuotaLine, quotaLines } from '../../core/quota-view';
import { confirm } from '../../shared/confirm-dialog/confirm-dialog';
import { Notice } from './notice';
import { formFailure } from './providers-forms';
import { type KeyRow, keyRow } from './providers-view';
import { ProvidersStore } from './providers.store';
import { QUOTA_DIALOG_SIZE, QuotaDialog, type QuotaDialogData } from './quota-dialog';

/** What testing a key said, shown next to it until the next test. */
export interface KeyTestView {
  ok: boolean;
  text: string;
}

const KEY_FIELDS = ['key', 'label'] as const;

/** A provider's keys: masked, where from, their state; test, remove (console keys) and add. */
@Component({
  selector: 'app-provider-keys',
  imports: [ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatIconModule, MatInputModule, MatProgressSpinnerModule, MatTooltipModule],
  templateUrl: './provider-keys.html',
  styleUrl: './provider-keys.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ProviderKeys {
  readonly provider = input.required<ProviderDetail>();

  protected readonly store = inject(ProvidersStore);
  private readonly notice = inject(Notice);
  private readonly dialog = inject(MatDialog);
  private readonly injector = inject(Injector);

  protected readonly rows = computed<KeyRow[]>(() => {
    const now = this.store.now();
    return this.provider().keys.map((k) => keyRow(k, now));
  });
  /** The provider's use per limit, summed over its keys by the gateway (shown when it has more than one key). */
  protected readonly total = computed<QuotaLine[]>(() => {
    const p = this.provider();
    return p.keys.length > 1 ? quotaLines(p.quota ?? [], this.store.now()) : [];
  });
  protected readonly tests = signal<Record<string, KeyTestView>>({});

  readonly form = new FormGroup({
    key: new FormControl('', { nonNullable: true, validators: [Validators.required, Validators.maxLength(4096)] }),
    label: new FormControl('', { nonNullable: true, validators: [Validators.maxLength(100)] }),
  });
  /** Its submitted state decides when errors show: reset with the form after an add. */
  private readonly formDirective = viewChild(FormGroupDirective);
  readonly reveal = signal(false);
  readonly adding = signal(false);
  /** The API's objection to a field, or to the form as a whole (`''`). */
  readonly serverErrors = signal<Record<string, string>>({});

  protected pendingKey(kind: 'test' | 'remove', id: string): boolean {
    return this.store.isPending(`key-${kind}:${id}`);
  }

  async test(row: KeyRow): Promise<void> {
    const name = this.provider().name;
    try {
      const r = await this.store.testKey(name, row.id);
      const text = r.ok ? `有效 · ${formatDuration(r.latencyMs)}` : `无效：${r.error ?? '原因不明'}`;
      this.tests.update((t) => ({ ...t, [row.id]: { ok: r.ok, text } }));
    } catch (err) {
      this.tests.update((t) => ({ ...t, [row.id]: { ok: false, text: formFailure(err, []).message } }));
    }
  }

  /** 额度设置 (the provider's limits, row omitted) or 额度 (one key's). */
  editQuota(row?: KeyRow): void {
    this.dialog.open<QuotaDialog, QuotaDialogData>(QuotaDialog, {
      ...QUOTA_DIALOG_SIZE,
      data: { provider: this.provider().name, keyId: row?.id ?? null, ...(row ? { masked: row.masked } : {}) },
      // The page's store and snackbars live in its injectors, which the dialog needs too.
      injector: this.injector,
      autoFocus: 'first-tabbable',
    });
  }

  remove(row: KeyRow): void {
    const name = this.provider().name;
    confirm(this.dialog, {
      title: '删除这个密钥？',
      message: `${name} 的密钥 ${row.masked}${row.label ? `（${row.label}）` : ''} 将从密钥池中删除，正在进行的请求不受影响。此操作无法撤销。`,
      confirm: '删除',
      danger: true,
    }).subscribe(async (ok) => {
      if (!ok) return;
      try {
        await this.store.removeKey(name, row.id);
        this.notice.ok(`已删除 ${name} 的密钥 ${row.masked}`);
      } catch (err) {
        this.notice.error('删除密钥失败', err);
      }
    });
  }

  async add(): Promise<void> {
    this.serverErrors.set({});
    if (this.form.invalid || this.adding()) {
      this.form.markAllAsTouched();
      return;
    }
    const name = this.provider().name;
    const before = new Set(this.provider().keys.map((k) => k.id));
    const { key, label } = this.form.getRawValue();
    this.adding.set(true);
    try {
      const p = await this.store.addKey(name, { key: key.trim(), ...(label.trim() ? { label: label.trim() } : {}) });
      const added = p.keys.find((k) => !before.has(k.id));
      const directive = this.formDirective();
      if (directive) directive.resetForm();
      else this.form.reset();
      this.reveal.set(false);
      this.notice.ok(added ? `已添加密钥 ${added.masked}` : '这个密钥已在密钥池中');
    } catch (err) {
      const f = formFailure(err, KEY_FIELDS);
      this.serverErrors.set({ [f.field ?? '']: f.message });
      if (f.field) this.form.get(f.field)?.setErrors({ server: true });
    } finally {
      this.adding.set(false);
    }
  }

  protected fieldError(field: (typeof KEY_FIELDS)[number]): string {
    const c = this.form.controls[field];
    if (c.hasError('server')) return this.serverErrors()[field] ?? '';
    if (c.hasError('required')) return '请填写密钥';
    if (c.hasError('maxlength')) return field === 'key' ? '密钥太长（最多 4096 个字符）' : '备注最多 100 个字符';
    return '';
  }
}
