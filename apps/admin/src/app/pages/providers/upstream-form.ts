import { ChangeDetectionStrategy, Component, ElementRef, type OnInit, computed, inject, input, output, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { type AbstractControl, FormArray, FormControl, FormGroup, ReactiveFormsModule, Validators } from '@angular/forms';
import { firstValueFrom } from 'rxjs';
import {
  EXTRA_SAMPLING_PARAMS,
  type ExtraSamplingParam,
  type ProviderDetail,
  type UpstreamModelsResult,
  type UpstreamTestResult,
  type UpstreamTrialOutcome,
  type UpstreamTrialRequest,
} from '#contracts';
import { MatButtonModule } from '@angular/material/button';
import { MatChipsModule } from '@angular/material/chips';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatProgressSpinnerModule } from '@angular/material/progress-spinner';
import { MatTooltipModule } from '@angular/material/tooltip';
import { ApiService } from '../../core/api.service';
import { attemptText } from '../../core/attempt-text';
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
  problem,
  proxyProblem,
  upstreamRequest,
  upstreamValue,
  urlProblem,
} from './providers-forms';
import { ProvidersStore } from './providers.store';

const FIELDS = ['name', 'baseUrl', 'ownedBy', 'priority', 'proxy', 'models', 'samplingParams', 'key'] as const;

type ModelGroup = FormGroup<{ id: FormControl<string>; upstream: FormControl<string> }>;

const modelGroup = (row: ModelRow): ModelGroup =>
  new FormGroup({ id: new FormControl(row.id, { nonNullable: true }), upstream: new FormControl(row.upstream, { nonNullable: true }) });

/** At most this many listed ids are shown at once; the filter narrows a longer list. */
export const SHOWN_IDS = 200;

/** How one trial call went, in the console's words (the upstream's own text is shown beside it). */
export function outcomeText(o: UpstreamTrialOutcome): string {
  return o.ok ? '成功' : attemptText({ code: o.code ?? undefined, reason: o.error ?? '', status: o.status });
}

/** The upstream ids the model map already asks for. */
export function mappedIds(rows: readonly ModelRow[]): Set<string> {
  return new Set(rows.map((r) => r.upstream.trim() || r.id.trim()).filter(Boolean));
}

/**
 * An operator-defined OpenAI-compatible upstream: a new one (with an optional first key), or the
 * definition of one added from the console, replaced as a whole on save.
 */
@Component({
  selector: 'app-upstream-form',
  imports: [
    ReactiveFormsModule,
    MatButtonModule,
    MatChipsModule,
    MatFormFieldModule,
    MatIconModule,
    MatInputModule,
    MatProgressSpinnerModule,
    MatTooltipModule,
  ],
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
  private readonly api = inject(ApiService);
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
    samplingParams: new FormControl<ExtraSamplingParam[]>([], { nonNullable: true }),
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

  /** 读取模型列表 and 测试: what the upstream answered, and what the operator picked from its list. */
  readonly listing = signal(false);
  readonly testing = signal(false);
  readonly listed = signal<UpstreamModelsResult | null>(null);
  readonly tested = signal<UpstreamTestResult | null>(null);
  readonly trialProblem = signal<string | null>(null);
  readonly picked = signal<ReadonlySet<string>>(new Set());
  readonly filter = signal('');
  readonly mapped = computed(() => {
    this.value();
    return mappedIds(this.form.controls.models.getRawValue());
  });
  /** The listed ids that match the filter (all of them, for 全选); the page shows the first SHOWN_IDS. */
  readonly matching = computed(() => {
    const f = this.filter().trim().toLowerCase();
    const ids = this.listed()?.models ?? [];
    return f ? ids.filter((id) => id.toLowerCase().includes(f)) : ids;
  });
  readonly shown = computed(() => this.matching().slice(0, SHOWN_IDS));
  protected readonly outcomeText = outcomeText;
  /** The sampling fields the 额外采样参数 chips offer: every one the gateway knows. */
  protected readonly samplingNames = EXTRA_SAMPLING_PARAMS;

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

  /** 读取模型列表: the upstream's ids, read with what the form holds now (saved or not). */
  async readModels(): Promise<void> {
    const body = this.trialRequest();
    if (!body || this.listing()) return;
    this.listing.set(true);
    this.listed.set(null);
    this.picked.set(new Set());
    this.filter.set('');
    try {
      this.listed.set(await firstValueFrom(this.api.readUpstreamModels(body)));
    } catch (err) {
      this.notice.error('读取模型列表失败', err);
    } finally {
      this.listing.set(false);
    }
  }

  /** 测试: a one-token chat per key, to the first mapped model. */
  async test(): Promise<void> {
    const body = this.trialRequest();
    if (!body || this.testing()) return;
    const [model] = this.mapped();
    if (!model) {
      this.trialProblem.set('先在「模型映射」中填写一个模型：测试用第一个模型发一次只生成 1 个 token 的对话');
      return;
    }
    this.testing.set(true);
    this.tested.set(null);
    try {
      this.tested.set(await firstValueFrom(this.api.testUpstream({ ...body, model })));
    } catch (err) {
      this.notice.error('测试失败', err);
    } finally {
      this.testing.set(false);
    }
  }

  togglePick(id: string): void {
    this.picked.update((s) => {
      const next = new Set(s);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  }

  /** Picks every listed id the filter matches that is not mapped yet (or none, when all are picked). */
  pickAll(): void {
    const open = this.matching().filter((id) => !this.mapped().has(id));
    const all = open.length > 0 && open.every((id) => this.picked().has(id));
    this.picked.set(all ? new Set() : new Set(open));
  }

  /** Maps the picked ids under their own names; an empty first row is filled rather than left. */
  addPicked(): void {
    const ids = [...this.picked()].filter((id) => !this.mapped().has(id));
    const rows = this.form.controls.models;
    for (const id of ids) {
      const blank = rows.controls.find((r) => !r.controls.id.value.trim() && !r.controls.upstream.value.trim());
      if (blank) blank.setValue({ id, upstream: '' });
      else rows.push(modelGroup({ id, upstream: '' }));
    }
    this.picked.set(new Set());
    this.notice.ok(`已加入 ${ids.length} 个模型到映射，保存后生效`);
  }

  /** The address, proxy and typed key as the form holds them, with the upstream's name when editing; null (and the field shown) when one is wrong. */
  private trialRequest(): UpstreamTrialRequest | null {
    this.trialProblem.set(null);
    const { baseUrl, proxy, key } = this.form.controls;
    for (const [name, control] of [
      ['baseUrl', baseUrl],
      ['proxy', proxy],
    ] as const) {
      control.markAsTouched();
      if (control.invalid) {
        this.focus(name);
        return null;
      }
    }
    const body: UpstreamTrialRequest = { baseUrl: baseUrl.value.trim() };
    if (proxy.value.trim()) body.proxy = proxy.value.trim();
    if (key.value.trim()) body.key = key.value.trim();
    const editing = this.base();
    if (editing) body.name = editing.name;
    return body;
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
