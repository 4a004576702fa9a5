import { Directive, type OnInit, computed, inject, signal } from '@angular/core';
import { MatSnackBar } from '@angular/material/snack-bar';
import { type Observable, firstValueFrom } from 'rxjs';
import { describeApiError } from '../../core/api-error';
import { ModelsStore } from './models.store';

/** What a table editor reads back from the gateway: the table in effect and where it comes from. */
export interface EditedList {
  source: string;
}

/** The rows read as what the gateway is sent, and what keeps them from being sent. */
export interface ParsedRows<Value> {
  value: Value;
  problems: string[];
}

/**
 * A table edited as a whole and saved in the gateway's storage (模型别名, 虚拟模型): loads it, keeps
 * the edited rows, says whether they differ from what is in effect, checks them before sending,
 * saves or goes back to the defaults one request at a time, and shows the gateway's refusal as it
 * said it. The panels give the calls, the row shape and the words.
 */
@Directive()
export abstract class RowTableEditor<List extends EditedList, Row, Value> implements OnInit {
  protected readonly store = inject(ModelsStore);
  private readonly snackBar = inject(MatSnackBar);

  readonly list = signal<List | null>(null);
  readonly rows = signal<Row[]>([]);
  readonly problems = signal<string[]>([]);
  readonly busy = signal(false);
  readonly loadFailure = signal<string | null>(null);

  readonly source = computed(() => {
    const l = this.list();
    return l ? this.sourceLabel(l) : '';
  });
  /** The table differs from what is in effect. */
  readonly dirty = computed(() => {
    const l = this.list();
    return !!l && JSON.stringify(this.parse(this.rows()).value) !== JSON.stringify(this.parse(this.rowsOf(l)).value);
  });

  protected abstract fetch(): Observable<List>;
  protected abstract put(value: Value): Observable<List>;
  protected abstract restore(): Observable<List>;
  protected abstract rowsOf(list: List): Row[];
  protected abstract parse(rows: Row[]): ParsedRows<Value>;
  protected abstract sourceLabel(list: List): string;
  protected abstract blankRow(): Row;
  /** The snackbar's words after a save and after 恢复默认. */
  protected abstract done(): { saved: string; reset: string };
  /** After the gateway took a change (e.g. reload what depends on the table). */
  protected changed(): void {}

  ngOnInit(): void {
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.show(await firstValueFrom(this.fetch()));
      this.loadFailure.set(null);
    } catch (err) {
      this.loadFailure.set(describeApiError(err).message);
    }
  }

  patch(index: number, change: Partial<Row>): void {
    this.rows.update((rows) => rows.map((r, i) => (i === index ? { ...r, ...change } : r)));
    this.problems.set([]);
  }

  add(): void {
    this.rows.update((rows) => [...rows, this.blankRow()]);
  }

  remove(index: number): void {
    this.rows.update((rows) => rows.filter((_, i) => i !== index));
    this.problems.set([]);
  }

  /** Saves the whole table; what the gateway refuses (an unknown model, say) is shown as it said it. */
  async save(): Promise<void> {
    const { value, problems } = this.parse(this.rows());
    this.problems.set(problems);
    if (problems.length) return;
    await this.change(this.put(value), this.done().saved);
  }

  async reset(): Promise<void> {
    await this.change(this.restore(), this.done().reset);
  }

  private async change(call: Observable<List>, done: string): Promise<void> {
    this.busy.set(true);
    try {
      this.show(await firstValueFrom(call));
      this.snackBar.open(done, undefined, { duration: 3000 });
      this.changed();
    } catch (err) {
      const failure = describeApiError(err);
      this.problems.set([failure.detail ?? failure.message]);
    } finally {
      this.busy.set(false);
    }
  }

  private show(list: List): void {
    this.list.set(list);
    this.rows.set(this.rowsOf(list));
    this.problems.set([]);
  }
}
