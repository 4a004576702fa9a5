import { BreakpointObserver } from '@angular/cdk/layout';
import { ChangeDetectionStrategy, Component, DestroyRef, type OnInit, computed, inject, signal } from '@angular/core';
import { takeUntilDestroyed, toSignal } from '@angular/core/rxjs-interop';
import { MatAutocompleteModule } from '@angular/material/autocomplete';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatPaginatorIntl, MatPaginatorModule, type PageEvent } from '@angular/material/paginator';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelectModule } from '@angular/material/select';
import { MatSlideToggleModule } from '@angular/material/slide-toggle';
import { MatTableModule } from '@angular/material/table';
import { MatTooltipModule } from '@angular/material/tooltip';
import { ActivatedRoute, Router } from '@angular/router';
import { map } from 'rxjs';
import { LiveStatus } from '../../shared/live-status/live-status';
import { RefreshButton } from '../../shared/live-status/refresh-button';
import { PageStates } from '../../shared/page-states/page-states';
import { StateView } from '../../shared/state/state';
import {
  DEFAULT_QUERY,
  type LogQuery,
  type LogRow,
  PAGE_SIZES,
  type StatusKind,
  TIME_PRESETS,
  type TimePreset,
  epochToLocal,
  filterCount,
  filterKey,
  isHttpStatus,
  parseQuery,
  statusKind,
  toQueryParams,
} from './logs-view';
import { LOGS_POLL_MS, LogsStore } from './logs.store';
import { LogDetail } from './log-detail';
import { LogsExport } from './logs-export';
import { ZhPaginatorIntl } from './paginator-intl';

/** Below this width the log table becomes a list of cards and the filters fold away (at 1024 px, next to the menu, the table would push its status off-screen). */
export const LOGS_CARDS_QUERY = '(max-width: 1279.98px)';

/** At most this many model ids in the model filter's suggestions. */
const MODEL_SUGGESTIONS = 50;

/** 请求日志: every request, filterable and paged (in the URL), each with its upstream attempts. */
@Component({
  selector: 'app-logs-page',
  imports: [
    MatAutocompleteModule,
    MatButtonModule,
    MatFormFieldModule,
    MatIconModule,
    MatInputModule,
    MatPaginatorModule,
    MatProgressBarModule,
    MatSelectModule,
    MatSlideToggleModule,
    MatTableModule,
    MatTooltipModule,
    StateView,
    PageStates,
    LiveStatus,
    RefreshButton,
    LogDetail,
    LogsExport,
  ],
  providers: [LogsStore, { provide: MatPaginatorIntl, useClass: ZhPaginatorIntl }],
  templateUrl: './logs.html',
  styleUrl: './logs.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export default class LogsPage implements OnInit {
  protected readonly store = inject(LogsStore);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);
  private readonly destroyRef = inject(DestroyRef);
  protected readonly pollSeconds = Math.round(inject(LOGS_POLL_MS) / 1000);

  protected readonly cards = toSignal(
    inject(BreakpointObserver)
      .observe(LOGS_CARDS_QUERY)
      .pipe(map((s) => s.matches)),
    { initialValue: false },
  );
  protected readonly presets = TIME_PRESETS;
  protected readonly pageSizes = PAGE_SIZES;
  protected readonly columns = ['expand', 'time', 'model', 'endpoint', 'stream', 'status', 'provider', 'latency', 'ttft', 'tokens', 'key'];
  protected readonly trackRow = (_: number, row: LogRow) => row.id;

  /** The phone's filter panel is open. */
  readonly filtersOpen = signal(false);
  protected readonly filterCount = computed(() => filterCount(this.store.query()));
  /** The status select: '', success, error, or a code typed beside it. */
  readonly statusChoice = signal<StatusKind>('');
  /** What is typed in the model field (suggestions follow it; the filter changes on Enter, pick or blur). */
  readonly modelText = signal('');
  protected readonly modelSuggestions = computed(() => {
    const text = this.modelText().trim().toLowerCase();
    const models = this.store.options().models;
    return (text ? models.filter((m) => m.toLowerCase().includes(text)) : models).slice(0, MODEL_SUGGESTIONS);
  });

  /** The providers to pick from, with the one in the URL even when the list does not have it (yet). */
  protected readonly providerOptions = computed(() => {
    const list = this.store.options().providers;
    const current = this.store.query().provider;
    return current && !list.includes(current) ? [current, ...list] : list;
  });
  protected readonly keyOptions = computed(() => {
    const keys = this.store.options().keys.map((k) => ({ id: k.id, label: k.revoked ? `${k.name}（已吊销）` : k.name }));
    const current = this.store.query().key;
    return current && !keys.some((k) => k.id === current) ? [{ id: current, label: current }, ...keys] : keys;
  });

  ngOnInit(): void {
    // The URL is the query: read it first (and on back / forward), then start loading.
    this.route.queryParamMap.pipe(takeUntilDestroyed(this.destroyRef)).subscribe((params) => {
      const q = parseQuery((name) => params.get(name));
      this.store.setQuery(q);
      this.modelText.set(q.model);
      // 指定状态码 chosen, the code not typed yet: the URL has no status, the choice stays.
      const kind = statusKind(q.status);
      if (kind !== '' || this.statusChoice() !== 'code') this.statusChoice.set(kind);
    });
    this.store.start();
  }

  /** Puts a changed query into the URL (which updates the store); a filter change goes back to page 1. */
  update(patch: Partial<LogQuery>): void {
    const current = this.store.query();
    const next = { ...current, ...patch };
    if (filterKey(next) !== filterKey(current) && patch.page === undefined) next.page = 1;
    void this.router.navigate([], { relativeTo: this.route, queryParams: toQueryParams(next), replaceUrl: true });
  }

  setRange(range: TimePreset): void {
    if (range !== 'custom') {
      this.update({ range, from: '', to: '' });
      return;
    }
    // A custom range starts as the last hour, for the admin to adjust.
    const now = Date.now();
    const q = this.store.query();
    this.update({ range, from: q.from || epochToLocal(now - 3_600_000), to: q.to });
  }

  setModel(value: string): void {
    const model = value.trim();
    this.modelText.set(model);
    if (model !== this.store.query().model) this.update({ model });
  }

  setStatusChoice(kind: StatusKind): void {
    this.statusChoice.set(kind);
    if (kind === 'code') {
      // Waits for a code; one already set stays.
      if (!isHttpStatus(this.store.query().status)) this.update({ status: '' });
      return;
    }
    this.update({ status: kind });
  }

  setStatusCode(value: string): void {
    const code = value.trim();
    if (!code) this.update({ status: '' });
    else if (isHttpStatus(code)) this.update({ status: code });
  }

  clearFilters(): void {
    this.modelText.set('');
    this.statusChoice.set('');
    this.update({ ...DEFAULT_QUERY, pageSize: this.store.query().pageSize });
  }

  onPage(event: PageEvent): void {
    const q = this.store.query();
    // A new page size starts from the first page.
    const page = event.pageSize !== q.pageSize ? 1 : event.pageIndex + 1;
    this.update({ page, pageSize: event.pageSize });
  }

  firstPage(): void {
    this.update({ page: 1 });
  }
}
