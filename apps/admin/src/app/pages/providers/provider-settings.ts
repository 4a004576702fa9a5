import { ChangeDetectionStrategy, Component, type OnInit, computed, inject, input, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { type AbstractControl, FormControl, FormGroup, FormRecord, ReactiveFormsModule, Validators } from '@angular/forms';
import type { ProviderDetail, ProviderSettingField } from '#contracts';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatProgressSpinnerModule } from '@angular/material/progress-spinner';
import { MatTooltipModule } from '@angular/material/tooltip';
import { Notice } from './notice';
import {
  type SettingsValue,
  formFailure,
  hasKeys,
  movesHost,
  priorityProblem,
  problem,
  proxyProblem,
  weightProblem,
  settingsPatch,
  settingsValue,
  urlProblem,
} from './providers-forms';
import { extraKeys, extraLabel } from './providers-view';
import { ProvidersStore } from './providers.store';

type ResettableField = Exclude<ProviderSettingField, 'enabled' | 'extra'>;
const FIELDS = ['baseUrl', 'proxy', 'priority', 'weight', 'extra', 'key'] as const;

/**
 * A built-in provider's settings: upstream address, proxy, priority and its own settings (such as
 * Cloudflare's account id). Saving sends only what changed; a field set from the console can go
 * back to the environment's value. Polls do not touch what is typed here.
 */
@Component({
  selector: 'app-provider-settings',
  imports: [ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatIconModule, MatInputModule, MatProgressSpinnerModule, MatTooltipModule],
  templateUrl: './provider-settings.html',
  styleUrl: './provider-settings.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ProviderSettings implements OnInit {
  readonly provider = input.required<ProviderDetail>();

  private readonly store = inject(ProvidersStore);
  private readonly notice = inject(Notice);

  /** The provider as the form was last filled from (on open, and after each save). */
  private readonly base = signal<ProviderDetail | null>(null);
  readonly form = new FormGroup({
    baseUrl: new FormControl('', { nonNullable: true, validators: [Validators.required, problem(urlProblem)] }),
    proxy: new FormControl('', { nonNullable: true, validators: [problem((v) => proxyProblem(v, v === (this.base()?.proxy ?? '')))] }),
    priority: new FormControl('', { nonNullable: true, validators: [problem(priorityProblem)] }),
    weight: new FormControl('', { nonNullable: true, validators: [problem(weightProblem)] }),
    extra: new FormRecord<FormControl<string>>({}),
    /** The new host's key, asked for when the address moves to another host (the old keys are not sent there). */
    key: new FormControl('', { nonNullable: true, validators: [Validators.maxLength(4096)] }),
  });
  private readonly value = toSignal(this.form.valueChanges, { initialValue: this.form.getRawValue() });

  protected readonly extraKeys = computed(() => {
    const b = this.base();
    return b ? extraKeys(b) : [];
  });
  protected readonly extraLabel = extraLabel;
  /** What saving would send; `{}` when nothing changed. */
  readonly patch = computed(() => {
    this.value();
    const b = this.base();
    return b ? settingsPatch(b, this.form.getRawValue() as SettingsValue) : {};
  });
  protected readonly changed = computed(() => Object.keys(this.patch()).length > 0);
  /** The address moves to another host and the provider has keys: the new host's key goes with it. */
  protected readonly asksKey = computed(() => {
    this.value();
    const b = this.base();
    return !!b && hasKeys(b) && movesHost(b.baseUrl, this.form.controls.baseUrl.value);
  });
  /** Settings the console set: they can go back to the environment's. */
  protected readonly overridden = computed(() => new Set(this.provider().overridden));
  readonly saving = signal(false);
  readonly serverErrors = signal<Record<string, string>>({});

  ngOnInit(): void {
    this.fill(this.provider());
  }

  async save(): Promise<void> {
    this.serverErrors.set({});
    this.form.markAllAsTouched();
    const key = this.form.controls.key.value.trim();
    const patch = this.patch().baseUrl && key ? { ...this.patch(), key } : this.patch();
    if (this.form.invalid || !this.changed() || this.saving()) return;
    const name = this.provider().name;
    this.saving.set(true);
    try {
      const p = await this.store.update(name, patch);
      this.fill(p);
      this.notice.ok(`已保存 ${p.name} 的设置`);
    } catch (err) {
      this.fail(err);
    } finally {
      this.saving.set(false);
    }
  }

  /** Clears the console's setting of one field: the environment's value (or the default) applies again. */
  async reset(field: ResettableField): Promise<void> {
    this.serverErrors.set({});
    const name = this.provider().name;
    this.saving.set(true);
    try {
      const p = await this.store.update(name, { [field]: null });
      this.base.set(p);
      this.form.controls[field].reset(settingsValue(p)[field]);
      this.notice.ok(`${name} 的${FIELD_LABELS[field]}已恢复为环境变量（或默认）的设置`);
    } catch (err) {
      this.fail(err);
    } finally {
      this.saving.set(false);
    }
  }

  protected fieldError(control: AbstractControl | null, field: string): string {
    if (!control) return '';
    if (control.hasError('server')) return this.serverErrors()[field] ?? '';
    if (control.hasError('required')) return '必填';
    return (control.getError('problem') as string | null) ?? '';
  }

  private fill(p: ProviderDetail): void {
    const v = settingsValue(p);
    this.base.set(p);
    const extra = this.form.controls.extra;
    for (const key of Object.keys(extra.controls)) extra.removeControl(key);
    for (const key of extraKeys(p)) extra.addControl(key, new FormControl(v.extra[key] ?? '', { nonNullable: true }));
    this.form.reset({ baseUrl: v.baseUrl, proxy: v.proxy, priority: v.priority, weight: v.weight, extra: v.extra, key: '' });
  }

  private fail(err: unknown): void {
    const f = formFailure(err, FIELDS);
    this.serverErrors.set({ [f.field ?? '']: f.message });
    const control = f.field ? this.form.get(f.field) : null;
    if (control && f.field !== 'extra') control.setErrors({ server: true });
    else if (f.field === 'extra') this.serverErrors.set({ '': f.message });
  }
}

const FIELD_LABELS: Record<ResettableField, string> = { baseUrl: '上游地址', proxy: '代理', priority: '优先级', weight: '权重' };
