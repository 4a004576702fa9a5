import { ChangeDetectionStrategy, Component, ElementRef, type OnInit, computed, inject, input, output, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { type AbstractControl, FormArray, FormControl, FormGroup, ReactiveFormsModule, type ValidationErrors, Validators } from '@angular/forms';
import type { ProviderDetail } from '#contracts';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatProgressSpinnerModule } from '@angular/material/progress-spinner';
import { MatTooltipModule } from '@angular/material/tooltip';
import { Notice } from './notice';
import {
  type ModelRow,
  UPSTREAM_NAME,
  type UpstreamValue,
  formFailure,
  hasKeys,
  modelMap,
  movesHost,
  priorityProblem,
  proxyProblem,
  upstreamRequest,
  upstreamValue,
  urlProblem,
} from './providers-forms';
import { ProvidersStore } from './providers.store';

const FIELDS = ['name', 'baseUrl', 'ownedBy', 'priority', 'proxy', 'models', 'key'] as const;

const problem =
  (check: (value: string) => string | null) =>
  (c: AbstractControl<string>): ValidationErrors | null => {
    const p = check(c.value ?? '');
    return p ? { problem: p } : null;
  };

type ModelGroup = FormGroup<{ id: FormControl<string>; upstream: FormControl<string> }>;

const modelGroup = (row: ModelRow): ModelGroup =>
  new FormGroup({ id: new FormControl(row.id, { nonNullable: true }), upstream: new FormControl(row.upstream, { nonNullable: true }) });

/**
 * An operator-defined OpenAI-compatible upstream: a new one (with an optional first key), or the
 * definition of one added from the console, replaced as a whole on save.
 */
@Component({
  selector: 'app-upstream-form',
  imports: [ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatIconModule, MatInputModule, MatProgressSpinnerModule, MatTooltipModule],
  templateUrl: './upstream-form.html',
  styleUrl: './upstream-form.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class UpstreamForm implements OnInit {
  /** The upstream to edit; none to create one. */
  readonly provider = input<ProviderDetail | null>(null);
  /** After a save: the upstream as the API now has it. */
  readonly saved = output<ProviderDetail>();

  private readonly store = inject(ProvidersStore);
  private readonly notice = inject(Notice);
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef, { optional: true });

  /** The upstream as the form was last filled from (edit mode). */
  private readonly base = signal<ProviderDetail | null>(null);
  readonly form = new FormGroup({
    name: new FormControl('', { nonNullable: true, validators: [Validators.required, Validators.pattern(UPSTREAM_NAME)] }),
    baseUrl: new FormControl('', { nonNullable: true, validators: [Validators.required, problem(urlProblem)] }),
    ownedBy: new FormControl('', { nonNullable: true, validators: [Validators.maxLength(60)] }),
    priority: new FormControl('', { nonNullable: true, validators: [problem(priorityProblem)] }),
    proxy: new FormControl('', { nonNullable: true, validators: [problem((v) => proxyProblem(v, false))] }),
    models: new FormArray<ModelGroup>([]),
    key: new FormControl('', { nonNullable: true, validators: [Validators.maxLength(4096)] }),
  });
  private readonly value = toSignal(this.form.valueChanges, { initialValue: this.form.getRawValue() });

  readonly editing = computed(() => this.provider() !== null);
  /** An edit moves the upstream to another host while it has keys: the new host's key goes with it. */
  readonly asksKey = computed(() => {
    this.value();
    const b = this.base();
    return !!b && hasKeys(b) && movesHost(b.baseUrl, this.form.controls.baseUrl.value);
  });
  /** What is wrong with the model rows, once the admin tried to save. */
  readonly modelsProblem = computed(() => {
    this.value();
    return this.triedSave() ? modelMap(this.form.controls.models.getRawValue()).problem : null;
  });
  readonly saving = signal(false);
  readonly triedSave = signal(false);
  readonly serverErrors = signal<Record<string, string>>({});

  ngOnInit(): void {
    const p = this.provider();
    this.fill(upstreamValue(p ?? undefined));
    this.base.set(p);
    if (p) this.form.controls.name.disable();
  }

  addModel(): void {
    this.form.controls.models.push(modelGroup({ id: '', upstream: '' }));
  }

  removeModel(i: number): void {
    const rows = this.form.controls.models;
    if (rows.length > 1) rows.removeAt(i);
    else rows.at(0).reset({ id: '', upstream: '' });
  }

  async save(): Promise<void> {
    this.serverErrors.set({});
    this.triedSave.set(true);
    this.form.markAllAsTouched();
    const value = this.form.getRawValue() as UpstreamValue & { key: string };
    if (this.form.invalid || modelMap(value.models).problem || this.saving()) {
      this.focus(FIELDS.find((f) => f !== 'models' && this.form.get(f)?.invalid) ?? null);
      return;
    }
    const body = upstreamRequest(value);
    const editing = this.base();
    if (editing && value.key.trim()) body.key = value.key.trim();
    this.saving.set(true);
    try {
      let p = editing ? await this.store.updateUpstream(editing.name, body) : await this.store.createUpstream(body);
      const key = value.key.trim();
      if (!editing && key) {
        try {
          p = await this.store.addKey(p.name, { key });
        } catch (err) {
          this.notice.error(`上游 ${p.name} 已添加，但密钥没有加上`, err);
          this.saved.emit(p);
          return;
        }
      }
      if (editing) {
        this.base.set(p);
        this.fill(upstreamValue(p));
      }
      this.notice.ok(editing ? `已保存上游 ${p.name}` : `已添加上游 ${p.name}${key ? '（含 1 个密钥）' : ''}`);
      this.saved.emit(p);
    } catch (err) {
      const f = formFailure(err, FIELDS);
      this.serverErrors.set({ [f.field ?? '']: f.message });
      const control = f.field && f.field !== 'models' ? this.form.get(f.field) : null;
      if (control) control.setErrors({ server: true });
      else if (f.field === 'models') this.serverErrors.set({ models: f.message });
      this.focus(f.field);
    } finally {
      this.saving.set(false);
    }
  }

  protected fieldError(control: AbstractControl | null, field: string): string {
    if (!control) return '';
    if (control.hasError('server')) return this.serverErrors()[field] ?? '';
    if (control.hasError('required')) return '必填';
    if (control.hasError('pattern')) return '以字母开头，只能包含字母、数字和 _ . -，最多 40 个字符';
    if (control.hasError('maxlength')) return `最多 ${(control.getError('maxlength') as { requiredLength: number }).requiredLength} 个字符`;
    return (control.getError('problem') as string | null) ?? '';
  }

  /** Brings a field the admin must fix into view (the form scrolls inside its dialog). */
  private focus(field: string | null): void {
    if (!field || field === 'models') return;
    const input = this.host?.nativeElement.querySelector<HTMLElement>(`[formControlName="${field}"]`);
    input?.focus({ preventScroll: true });
    input?.scrollIntoView({ block: 'center', behavior: 'smooth' });
  }

  private fill(v: UpstreamValue): void {
    const rows = this.form.controls.models;
    rows.clear();
    for (const m of v.models) rows.push(modelGroup(m));
    this.form.reset({ ...v, key: '' });
    this.triedSave.set(false);
  }
}
