import { ChangeDetectionStrategy, Component, DestroyRef, computed, inject, input, signal } from '@angular/core';
import { MatButtonToggleModule } from '@angular/material/button-toggle';
import type { StatsBreakdownDimension, StatsResponse } from '#contracts';
import { ApiService } from '../../core/api.service';
import { formatCount, formatDuration, formatPercent } from '../../core/format';
import { rateTone } from './dashboard-view';
import { BREAKDOWN_TABS, TABLE_LIMIT, TOP_N, breakdownRows } from './usage-breakdown-view';

/** 用量细分 on the dashboard: the range's requests and tokens by model, provider or client key, as top-N bars and a table. */
@Component({
  selector: 'app-usage-breakdown',
  imports: [MatButtonToggleModule],
  templateUrl: './usage-breakdown.html',
  styleUrl: './usage-breakdown.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class UsageBreakdown {
  private readonly api = inject(ApiService);

  readonly stats = input.required<StatsResponse>();
  readonly rangeLabel = input('');

  protected readonly tabs = BREAKDOWN_TABS;
  protected readonly fmt = { count: formatCount, percent: formatPercent, duration: formatDuration };
  /** The success rate's colour class, as on the dashboard's cards. */
  protected readonly tone = (rate: number | null) => `tone-${rateTone(rate)}`;
  readonly dimension = signal<StatsBreakdownDimension>('model');
  /** Client key names by id, loaded once; ids are shown until then (or if the list cannot be read). */
  readonly keyNames = signal<ReadonlyMap<string, string>>(new Map());

  readonly rows = computed(() => breakdownRows(this.stats(), this.dimension(), this.keyNames()));
  readonly top = computed(() => this.rows().slice(0, TOP_N));
  readonly tableRows = computed(() => this.rows().slice(0, TABLE_LIMIT));
  readonly hidden = computed(() => Math.max(0, this.rows().length - TABLE_LIMIT));
  readonly note = computed(() => BREAKDOWN_TABS.find((t) => t.dimension === this.dimension())!.note);

  constructor() {
    const sub = this.api.clientKeys().subscribe({
      next: (list) => this.keyNames.set(new Map(list.data.map((k) => [k.id, k.name]))),
      error: () => undefined,
    });
    inject(DestroyRef).onDestroy(() => sub.unsubscribe());
  }
}
