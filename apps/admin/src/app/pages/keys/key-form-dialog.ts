import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { type AbstractControl, FormControl, FormGroup, ReactiveFormsModule, type ValidationErrors } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialogModule, MatDialogRef } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatProgressSpinnerModule } from '@angular/material/progress-spinner';
import type { Observable } from 'rxjs';
import type { ClientKey } from '#contracts';
import { type ApiFailure, describeApiError } from '../../core/api-error';
import { MAX_NAME_LENGTH, keyFormBody, validateKeyForm } from './keys-view';

export interface KeyFormDialogData {
  /** null: create a key; otherwise edit this one. */
  key: ClientKey | null;
  /** Creating the first key switches /v1 from open to requiring a key: the dialog says so. */
  first: boolean;
  /** Sends the form (POST or PATCH); the dialog closes with its answer, or shows its error. */
  submit(body: { name: string; rpmLimit: number | null }): Observable<unknown>;
}

/** A control validator from validateKeyForm's message for one field. */
function fieldValidator(field: 'name' | 'rpmLimit') {
  return (control: AbstractControl<string>): ValidationErrors | null => {
    const message = validateKeyForm({ name: 'x', rpmLimit: '', [field]: control.value ?? '' })[field];
    return message ? { message } : null;
  };
}

/** 创建密钥 / 编辑密钥: a name and an optional requests-per-minute limit. */
@Component({
  selector: 'app-key-form-dialog',
  imports: [ReactiveFormsModule, MatDialogModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatIconModule, MatProgressSpinnerModule],
  template: `
    <h2 mat-dialog-title>{{ editing ? '编辑密钥' : '创建 API 密钥' }}</h2>
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
  readonly form = new FormGroup({
    name: new FormControl(this.data.key?.name ?? '', { nonNullable: true, validators: fieldValidator('name') }),
    rpmLimit: new FormControl(this.data.key?.rpmLimit == null ? '' : String(this.data.key.rpmLimit), {
      nonNullable: true,
      validators: fieldValidator('rpmLimit'),
    }),
  });
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
