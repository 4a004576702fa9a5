import { ChangeDetectionStrategy, Component, type OnInit, inject, signal } from '@angular/core';
import { type AbstractControl, FormArray, FormControl, FormGroup, ReactiveFormsModule } from '@angular/forms';
import { HttpErrorResponse } from '@angular/common/http';
import { firstValueFrom } from 'rxjs';
import type { ProviderQuotaList, ProviderQuotaView } from '#contracts';
import { MatButtonModule } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialogModule, MatDialogRef } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatProgressSpinnerModule } from '@angular/material/progress-spinner';
import { ApiService } from '../../core/api.service';
import { describeApiError } from '../../core/api-error';
import { Notice } from './notice';
import { formFailure, problem } from './providers-forms';
import { ProvidersStore } from './providers.store';
import { type QuotaFormValue, type QuotaRow, limitProblem, quotaBody, quotaErrorField, quotaErrorText, quotaFormValue, resetHourProblem } from './quota-form';

export interface QuotaDialogData {
  /** The provider's name (as 提供商管理 shows it). */
  provider: string;
  /** One key's limits; null for the provider's (each of its keys). */
  keyId: string | null;
  /** The key as shown (masked), for the title. */
  masked?: string;
}

/** Like 提供商管理's dialogs (DIALOG_SIZE), a little narrower: it opens over the provider's. */
export const QUOTA_DIALOG_SIZE = { width: '640px', maxWidth: 'calc(100vw - 24px)', maxHeight: 'calc(100dvh - 24px)' } as const;

/**
 * 额度设置 (a provider) and 额度 (one key): the free-tier limits in effect ("未知" where nothing is
 * documented or set: never a guessed number), and the console's own settings for them, saved with
 * `PUT /api/quotas/…` (it replaces the console's previous setting) or dropped with 恢复默认.
 */
@Component({
  selector: 'app-quota-dialog',
  imports: [MatDialogModule, MatButtonModule, MatFormFieldModule, MatIconModule, MatInputModule, MatProgressSpinnerModule, ReactiveFormsModule],
  template: `
    <h2 mat-dialog-title>{{ data.keyId === null ? data.provider + ' 的额度设置' : subject() + '的额度' }}</h2>
    <mat-dialog-content data-testid="quota-dialog">
      @if (failure(); as f) {
        <p class="form-error" role="alert" data-testid="quota-load-error">{{ f }}</p>
        <button mat-button type="button" (click)="load()" data-testid="quota-retry"><mat-icon>refresh</mat-icon>重试</button>
      } @else if (!value()) {
        <mat-spinner diameter="32" aria-label="正在读取额度" />
      } @else {
        <form [formGroup]="form" (ngSubmit)="save()" class="form" id="quota-form" data-testid="quota-form">
          <p class="hint">
            @if (data.keyId === null) {
              限额作用于这个提供商的每个密钥。「当前生效」是提供商文档中的免费额度，再叠加 QUOTA_LIMITS
              与这里的设置；出处见文档「免费额度账本」。没有依据的限额显示为“未知”，不会因此拦下密钥。
            } @else {
              只作用于这一个密钥，叠加在提供商的限额之上。「当前生效」是这个密钥现在的限额；没有依据的限额显示为“未知”。
            }
            留空表示不在这里设置。
          </p>
          <div class="limits" formArrayName="limits">
            @for (row of value()!.rows; track row.limit; let i = $index) {
              <div class="limit" [attr.data-limit]="row.limit" data-testid="quota-limit">
                <mat-form-field appearance="outline" subscriptSizing="dynamic">
                  <mat-label>{{ row.label }}</mat-label>
                  <input
                    matInput
                    [formControlName]="i"
                    autocomplete="off"
                    inputmode="numeric"
                    [placeholder]="row.unknownSet ? '已设为未知' : '不设置'"
                    [attr.data-testid]="'quota-input-' + row.limit"
                  />
                  <mat-hint data-testid="quota-current">当前生效：{{ row.current }}{{ row.unknownSet ? '（已在这里设为未知）' : '' }}</mat-hint>
                  <mat-error>{{ fieldError(limitControls.at(i), row.limit) }}</mat-error>
                </mat-form-field>
              </div>
            }
          </div>
          <div class="reset-time">
            <mat-form-field appearance="outline" subscriptSizing="dynamic">
              <mat-label>重置时区（可选）</mat-label>
              <input
                matInput
                formControlName="timeZone"
                autocomplete="off"
                spellcheck="false"
                [placeholder]="value()!.currentTimeZone"
                data-testid="quota-timeZone"
              />
              <mat-hint>每日 / 每月额度按这个 IANA 时区重置，当前生效：{{ value()!.currentTimeZone }}</mat-hint>
              <mat-error>{{ fieldError(form.controls.timeZone, 'timeZone') }}</mat-error>
            </mat-form-field>
            <mat-form-field appearance="outline" subscriptSizing="dynamic">
              <mat-label>重置时刻（可选）</mat-label>
              <input
                matInput
                formControlName="resetHour"
                autocomplete="off"
                inputmode="numeric"
                [placeholder]="'' + value()!.currentResetHour"
                data-testid="quota-resetHour"
              />
              <mat-hint>0–23 点，当前生效：{{ value()!.currentResetHour }} 点</mat-hint>
              <mat-error>{{ fieldError(form.controls.resetHour, 'resetHour') }}</mat-error>
            </mat-form-field>
          </div>
          @if (serverErrors()['']; as e) {
            <p class="form-error" role="alert" data-testid="quota-error">{{ e }}</p>
          }
        </form>
      }
    </mat-dialog-content>
    <mat-dialog-actions align="end">
      @if (hasOverride()) {
        <button mat-button type="button" class="restore" (click)="restore()" [disabled]="saving()" data-testid="quota-restore">
          <mat-icon>undo</mat-icon>恢复默认
        </button>
      }
      <button mat-button type="button" mat-dialog-close data-testid="quota-cancel">取消</button>
      <button mat-flat-button type="submit" form="quota-form" [disabled]="saving() || !value()" data-testid="quota-save">
        @if (saving()) {
          <mat-spinner diameter="18" />
        } @else {
          <mat-icon>save</mat-icon>
        }
        保存
      </button>
    </mat-dialog-actions>
  `,
  styles: `
    .form {
      display: flex;
      flex-direction: column;
      gap: 16px;
    }
    .hint {
      margin: 0;
      font: var(--mat-sys-body-small);
      color: var(--app-muted);
      line-height: 1.6;
    }
    .limits,
    .reset-time {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(min(100%, 200px), 1fr));
      gap: 12px;
    }
    mat-form-field {
      width: 100%;
      min-width: 0;
    }
    .form-error {
      margin: 0;
      color: var(--app-danger);
      overflow-wrap: anywhere;
    }
    .restore {
      margin-right: auto;
    }
    mat-dialog-actions mat-spinner {
      display: inline-block;
      margin-right: 8px;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class QuotaDialog implements OnInit {
  protected readonly data = inject<QuotaDialogData>(MAT_DIALOG_DATA);
  private readonly ref = inject(MatDialogRef<QuotaDialog>);
  private readonly api = inject(ApiService);
  private readonly store = inject(ProvidersStore);
  private readonly notice = inject(Notice);

  /** The form's start, from `GET /api/quotas`; null while it loads. */
  readonly value = signal<QuotaFormValue | null>(null);
  /** Why the limits could not be read. */
  readonly failure = signal<string | null>(null);
  /** The console has its own setting here: 恢复默认 drops it. */
  readonly hasOverride = signal(false);
  readonly saving = signal(false);
  /** The API's objection to a field (a limit's name, timeZone, resetHour) or to the form as a whole (`''`). */
  readonly serverErrors = signal<Record<string, string>>({});

  readonly limitControls = new FormArray<FormControl<string>>([]);
  readonly form = new FormGroup({
    limits: this.limitControls,
    timeZone: new FormControl('', { nonNullable: true }),
    resetHour: new FormControl('', { nonNullable: true, validators: [problem(resetHourProblem)] }),
  });

  ngOnInit(): void {
    void this.load();
  }

  async load(): Promise<void> {
    this.failure.set(null);
    try {
      this.fill(await firstValueFrom(this.api.quotas()));
    } catch (err) {
      this.failure.set(`读取额度失败：${formFailure(err, []).message}`);
    }
  }

  async save(): Promise<void> {
    this.serverErrors.set({});
    this.form.markAllAsTouched();
    const v = this.value();
    if (!v || this.form.invalid || this.saving()) return;
    const typed: QuotaFormValue = {
      ...v,
      rows: v.rows.map((r, i): QuotaRow => ({ ...r, value: this.limitControls.at(i).value })),
      timeZone: this.form.controls.timeZone.value,
      resetHour: this.form.controls.resetHour.value,
    };
    await this.send(this.api.setQuota(this.data.provider, this.data.keyId, quotaBody(typed)), `已保存${this.subject()}的额度设置`);
  }

  /** Drops the console's setting: the documented limits (and QUOTA_LIMITS), or for a key the provider's, apply again. */
  async restore(): Promise<void> {
    this.serverErrors.set({});
    if (this.saving()) return;
    await this.send(this.api.clearQuota(this.data.provider, this.data.keyId), `${this.subject()}的额度已恢复默认`);
  }

  protected fieldError(control: AbstractControl | null, field: string): string {
    if (!control) return '';
    if (control.hasError('server')) return this.serverErrors()[field] ?? '';
    return (control.getError('problem') as string | null) ?? '';
  }

  private async send(call: ReturnType<ApiService['setQuota']>, done: string): Promise<void> {
    this.saving.set(true);
    try {
      await firstValueFrom(call);
      // The key rows show the ledger's lines from GET /api/providers: fetch it now rather than at the next poll.
      this.store.refresh();
      this.notice.ok(done);
      this.ref.close(true);
    } catch (err) {
      this.fail(err);
    } finally {
      this.saving.set(false);
    }
  }

  /** Who the limits are for, in a sentence: " DeepInfra ", "密钥 ****0001 ", "匿名访问" (a provider's keyless slot). */
  protected subject(): string {
    if (this.data.keyId === null) return ` ${this.data.provider} `;
    return this.data.keyId === 'anonymous' ? '匿名访问' : `密钥 ${this.data.masked ?? this.data.keyId} `;
  }

  private view(list: ProviderQuotaList): ProviderQuotaView | null {
    const name = this.data.provider.toLowerCase();
    return list.providers.find((p) => p.name.toLowerCase() === name || p.provider.toLowerCase() === name) ?? null;
  }

  private fill(list: ProviderQuotaList): void {
    const view = this.view(list);
    const key = this.data.keyId === null ? null : view?.keys.find((k) => k.id === this.data.keyId);
    if (!view || key === undefined) {
      this.failure.set(view ? '这个密钥已不存在（可能刚被删除）。' : '这个提供商已不存在（可能刚被删除）。');
      return;
    }
    const v = quotaFormValue(view, this.data.keyId ?? undefined);
    this.limitControls.clear();
    for (const row of v.rows) this.limitControls.push(new FormControl(row.value, { nonNullable: true, validators: [problem(limitProblem)] }));
    this.form.controls.timeZone.reset(v.timeZone);
    this.form.controls.resetHour.reset(v.resetHour);
    this.hasOverride.set((key ? key.override : view.override) !== null);
    this.value.set(v);
  }

  /** A 400 names the limit, time zone or hour it objects to: shown under that field, in Chinese. */
  private fail(err: unknown): void {
    const failure = describeApiError(err);
    if (err instanceof HttpErrorResponse && failure.status === 400 && failure.detail) {
      const field = quotaErrorField(failure.detail);
      const text = quotaErrorText(failure.detail);
      const control = this.controlOf(field);
      this.serverErrors.set({ [control ? field! : '']: text });
      control?.setErrors({ server: true });
      return;
    }
    this.serverErrors.set({ '': formFailure(err, []).message });
  }

  private controlOf(field: string | null): AbstractControl | null {
    if (field === 'timeZone' || field === 'resetHour') return this.form.controls[field];
    const i = this.value()?.rows.findIndex((r) => r.limit === field) ?? -1;
    return i >= 0 ? this.limitControls.at(i) : null;
  }
}
