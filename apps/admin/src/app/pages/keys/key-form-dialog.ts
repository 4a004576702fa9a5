import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { type AbstractControl, FormControl, FormGroup, ReactiveFormsModule, type ValidationErrors } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialogModule, MatDialogRef } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatProgressSpinnerModule } from '@angular/material/progress-spinner';
import type { Observable } from 'rxjs';
import type { ClientKey, CreateClientKeyRequest } from '#contracts';
import { type ApiFailure, describeApiError } from '../../core/api-error';
import { MAX_NAME_LENGTH, QUOTA_FIELDS, type KeyFormValue, emptyKeyForm, keyFormBody, keyFormValue, validateKeyForm } from './keys-view';

export interface KeyFormDialogData {
  /** null: create a key; otherwise edit this one. */
  key: ClientKey | null;
  /** Creating the first key switches /v1 from open to requiring a key: the dialog says so. */
  first: boolean;
  /** Sends the form (POST or PATCH); the dialog closes with its answer, or shows its error. */
  submit(body: CreateClientKeyRequest): Observable<unknown>;
}

/** A control validator from validateKeyForm's message for one field. */
function fieldValidator(field: keyof KeyFormValue) {
  return (control: AbstractControl<string>): ValidationErrors | null => {
    const message = validateKeyForm({ ...emptyKeyForm(), name: 'x', [field]: control.value ?? '' })[field];
    return message ? { message } : null;
  };
}

type KeyForm = { [K in keyof KeyFormValue]: FormControl<string> };

/** The form's controls, filled from a key (or empty), each checked as the API will. */
function keyForm(key: ClientKey | null): FormGroup<KeyForm> {
  const value = keyFormValue(key);
  const controls = {} as KeyForm;
  for (const field of Object.keys(value) as (keyof KeyFormValue)[]) {
    controls[field] = new FormControl(value[field], { nonNullable: true, validators: fieldValidator(field) });
  }
  return new FormGroup(controls);
}

/** 创建 / 编辑客户端密钥: a name and optional limits (rate, quotas, expiry, models, addresses, concurrency). */
@Component({
  selector: 'app-key-form-dialog',
  imports: [ReactiveFormsModule, MatDialogModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatIconModule, MatProgressSpinnerModule],
  template: `
    <h2 mat-dialog-title>{{ editing ? '编辑客户端密钥' : '创建客户端密钥' }}</h2>
    <form [formGroup]="form" (ngSubmit)="save()" novalidate>
      <mat-dialog-content class="content">
        @if (!editing && data.first) {
          <p class="note" data-testid="first-key-note">
            <mat-icon>info</mat-icon>
            <span>这是第一个密钥：创建后，调用 <code>/v1</code> 必须带上有效的密钥，不带密钥的客户端会收到 401。</span>
          </p>
        }
        <mat-form-field appearance="outline" class="field">
          <mat-label>名称</mat-label>
          <input matInput formControlName="name" [maxlength]="maxName" autocomplete="off" cdkFocusInitial data-testid="key-name" />
          <mat-hint>使用者或用途，例如「团队 A」「Open WebUI」</mat-hint>
          @if (form.controls.name.errors?.['message']; as message) {
            <mat-error>{{ message }}</mat-error>
          }
        </mat-form-field>
        <mat-form-field appearance="outline" class="field">
          <mat-label>每分钟请求上限</mat-label>
          <input matInput formControlName="rpmLimit" inputmode="numeric" autocomplete="off" placeholder="不限" data-testid="key-rpm" />
          <span matTextSuffix>次/分钟</span>
          <mat-hint>留空表示不限速；超过上限的请求会收到 429</mat-hint>
          @if (form.controls.rpmLimit.errors?.['message']; as message) {
            <mat-error>{{ message }}</mat-error>
          }
        </mat-form-field>
        <h3 class="section">配额 <span class="section-hint">留空表示不限；日、月按 QUOTA_TIME_ZONE（默认 UTC）的零点重置</span></h3>
        <div class="grid">
          @for (q of quotas; track q.field) {
            <mat-form-field appearance="outline" class="field">
              <mat-label>{{ q.label }}</mat-label>
              <input matInput [formControlName]="q.field" inputmode="numeric" autocomplete="off" placeholder="不限" [attr.data-testid]="'key-' + q.field" />
              <span matTextSuffix>{{ q.unit }}</span>
              @if (form.controls[q.field].errors?.['message']; as message) {
                <mat-error>{{ message }}</mat-error>
              }
            </mat-form-field>
          }
        </div>
        <p class="app-muted small">Token 配额在请求完成后计入：用完前的最后一个请求可能超出一点，之后的请求收到 429 insufficient_quota。</p>
        <h3 class="section">其他限制</h3>
        <div class="grid">
          <mat-form-field appearance="outline" class="field">
            <mat-label>过期时间</mat-label>
            <input matInput type="datetime-local" formControlName="expiresAt" data-testid="key-expiresAt" />
            <mat-hint>留空表示永不过期；过期后请求收到 401</mat-hint>
            @if (form.controls.expiresAt.errors?.['message']; as message) {
              <mat-error>{{ message }}</mat-error>
            }
          </mat-form-field>
          <mat-form-field appearance="outline" class="field">
            <mat-label>最大并发数</mat-label>
            <input matInput formControlName="concurrencyLimit" inputmode="numeric" autocomplete="off" placeholder="不限" data-testid="key-concurrencyLimit" />
            <mat-hint>同时处理的请求数上限</mat-hint>
            @if (form.controls.concurrencyLimit.errors?.['message']; as message) {
              <mat-error>{{ message }}</mat-error>
            }
          </mat-form-field>
        </div>
        <mat-form-field appearance="outline" class="field">
          <mat-label>允许的模型</mat-label>
          <textarea matInput formControlName="allowedModels" rows="2" placeholder="全部允许" data-testid="key-allowedModels"></textarea>
          <mat-hint>每行一个模型 id，可用 * 通配（如 gpt-4o*）；别名与其指向的模型任一匹配即可</mat-hint>
          @if (form.controls.allowedModels.errors?.['message']; as message) {
            <mat-error>{{ message }}</mat-error>
          }
        </mat-form-field>
        <mat-form-field appearance="outline" class="field">
          <mat-label>允许的客户端 IP</mat-label>
          <textarea matInput formControlName="allowedIps" rows="2" placeholder="不限" data-testid="key-allowedIps"></textarea>
          <mat-hint>每行一个 IP 或 CIDR（IPv4 / IPv6，如 10.0.0.0/8）；经反向代理时需设置 TRUST_PROXY</mat-hint>
          @if (form.controls.allowedIps.errors?.['message']; as message) {
            <mat-error>{{ message }}</mat-error>
          }
        </mat-form-field>
        @if (error(); as e) {
          <p class="error" role="alert" data-testid="key-form-error">
            <mat-icon>error</mat-icon>
            <span>
              {{ e.message }}
              @if (e.detail) {
                <span class="detail">{{ e.detail }}</span>
              }
            </span>
          </p>
        }
      </mat-dialog-content>
      <mat-dialog-actions align="end">
        <button mat-button type="button" mat-dialog-close [disabled]="saving()">取消</button>
        <button mat-flat-button type="submit" [disabled]="saving()" data-testid="key-form-submit">
          @if (saving()) {
            <mat-spinner diameter="18" />
          }
          {{ editing ? '保存' : '创建' }}
        </button>
      </mat-dialog-actions>
    </form>
  `,
  styles: `
    .content {
      display: flex;
      flex-direction: column;
      gap: 8px;
      min-width: min(420px, 100%);
    }
    .field {
      width: 100%;
    }
    .grid {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(180px, 1fr));
      gap: 0 12px;
    }
    .section {
      margin: 8px 0 4px;
      font: var(--mat-sys-title-small);
    }
    .section-hint,
    .small {
      font: var(--mat-sys-body-small);
      color: var(--app-muted);
    }
    .small {
      margin: 0 0 8px;
    }
    .note,
    .error {
      display: flex;
      gap: 8px;
      align-items: flex-start;
      margin: 0 0 8px;
      padding: 10px 12px;
      border-radius: 10px;
      line-height: 1.5;
    }
    .note {
      background: color-mix(in srgb, var(--mat-sys-primary) 12%, transparent);
    }
    .note mat-icon {
      color: var(--mat-sys-primary);
      flex: none;
    }
    .error {
      background: color-mix(in srgb, var(--app-danger) 14%, transparent);
    }
    .error mat-icon {
      color: var(--app-danger);
      flex: none;
    }
    .detail {
      display: block;
      font: var(--mat-sys-body-small);
      color: var(--app-muted);
      overflow-wrap: anywhere;
    }
    mat-spinner {
      display: inline-block;
      margin-right: 6px;
      vertical-align: middle;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class KeyFormDialog {
  protected readonly data = inject<KeyFormDialogData>(MAT_DIALOG_DATA);
  private readonly ref = inject<MatDialogRef<KeyFormDialog, unknown>>(MatDialogRef);

  protected readonly editing = this.data.key !== null;
  protected readonly maxName = MAX_NAME_LENGTH;
  protected readonly quotas = QUOTA_FIELDS;
  readonly form = keyForm(this.data.key);
  readonly saving = signal(false);
  readonly error = signal<ApiFailure | null>(null);

  save(): void {
    if (this.saving()) return;
    this.form.markAllAsTouched();
    if (this.form.invalid) return;
    this.saving.set(true);
    this.error.set(null);
    this.ref.disableClose = true;
    this.data.submit(keyFormBody(this.form.getRawValue())).subscribe({
      next: (result) => {
        this.saving.set(false);
        this.ref.close(result);
      },
      error: (err: unknown) => {
        this.saving.set(false);
        this.ref.disableClose = false;
        this.error.set(describeApiError(err));
      },
    });
  }
}
