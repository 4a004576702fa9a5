import { ChangeDetectionStrategy, Component, DestroyRef, type OnInit, computed, inject, input, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { catchError, forkJoin, map, of } from 'rxjs';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import type { ProviderDetail, ProviderModelStats, RequestLogEntry, StatsRange } from '#contracts';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatTooltipModule } from '@angular/material/tooltip';
import { ApiService, type ProviderHealthHistoryView } from '../../core/api.service';
import { attemptText, finalErrorText } from '../../core/attempt-text';
import { formatClock, formatCount, formatDuration, formatPercent } from '../../core/format';
import { RangeLoad } from '../../shared/range/range-load';
import { RangeToggle } from '../../shared/range/range-toggle';
import { conditionInfo, keyRow, probeText } from './providers-view';

const RECENT_CHECKS = 10;
const RECENT_FAILURES = 5;

/** The ranges the per-model numbers can cover. */
export const MODEL_STAT_RANGES: ReadonlyArray<{ range: StatsRange; label: string }> = [
  { range: '1h', label: '1 小时' },
  { range: '24h', label: '24 小时' },
  { range: '7d', label: '7 天' },
];

/** What 成功率 means here: this provider's attempts, not the clients' requests. */
export const MODEL_SUCCESS_HELP = '成功率：这段时间内该提供商对这个模型的上游尝试中成功的比例（成功次数 / 尝试次数；冷却中跳过的不算）';

/** One model's line in the overview: attempts, 成功率 and latency, as shown. */
export function modelStatLine(item: ProviderModelStats['items'][number]): {
  model: string;
  attempts: string;
  rate: string;
  tone: string;
  p50: string;
  p95: string;
} {
  const rate = item.successRate;
  const tone = rate === null ? 'neutral' : rate >= 0.95 ? 'success' : rate >= 0.8 ? 'warning' : 'danger';
  return {
    model: item.value,
    attempts: formatCount(item.requests),
    rate: formatPercent(rate),
    tone,
    p50: formatDuration(item.latencyP50Ms),
    p95: formatDuration(item.latencyP95Ms),
  };
}

/** One recent check as the overview lists it: what was probed, the model a chat probe tested (null for the others), the verdict. */
export function checkLine(item: ProviderHealthHistoryView['items'][number]): {
  at: number;
  ok: boolean;
  tested: string;
  model: string | null;
  verdict: string;
  error: string | null;
} {
  const probe = item.probe === 'chat' || item.probe === 'models' ? item.probe : 'none';
  return {
    at: item.checkedAt,
    ok: item.ok,
    // The model is a field of its own, not folded into the probe's words.
    tested: probeText({ probe }),
    model: probe === 'chat' ? (item.model ?? null) : null,
    verdict: `${item.ok ? '通过' : '失败'} · ${formatDuration(item.latencyMs)}`,
    error: item.error,
  };
}

/** One failed request as the overview lists it: when, which model, what happened in Chinese. */
export function failureLine(entry: RequestLogEntry, provider: string): { at: number; model: string; status: number; text: string } {
  const mine = [...entry.attempts].reverse().find((a) => a.provider.toLowerCase() === provider.toLowerCase() && a.reason !== 'ok');
  return { at: entry.startedAt, model: entry.model, status: entry.status, text: mine ? attemptText(mine) : (finalErrorText(entry) ?? '请求失败') };
}

/**
 * A provider at a glance: its condition, its recent checks (time, what was tested and on which
 * model, result, latency), its last failed requests with a link to 请求日志 filtered to it, and each key's state.
 */
@Component({
  selector: 'app-provider-overview',
  imports: [RouterLink, MatButtonModule, MatIconModule, MatTooltipModule, RangeToggle],
  template: `
    <section class="block" data-testid="overview-condition">
      <h3>
        状况：<span [class]="'tone-' + condition().tone">{{ condition().label }}</span>
      </h3>
      @if (condition().detail) {
        <p class="detail" [class]="'tone-' + condition().tone">{{ condition().detail }}</p>
      }
    </section>

    <section class="block">
      <h3>最近的检查</h3>
      @if (checks(); as list) {
        @if (list.length === 0) {
          <p class="muted">还没有检查记录。</p>
        } @else {
          <ol class="lines" data-testid="overview-checks">
            @for (c of list; track c.at) {
              <li [class]="c.ok ? 'tone-success' : 'tone-danger'">
                <span class="at">{{ clock(c.at) }}</span>
                <span>{{ c.tested }}</span>
                @if (c.model) {
                  <span data-testid="overview-check-model"
                    >测试模型：<span class="mono">{{ c.model }}</span></span
                  >
                }
                <span>{{ c.verdict }}</span>
                @if (c.error) {
                  <span class="mono">{{ c.error }}</span>
                }
              </li>
            }
          </ol>
        }
      } @else {
        <p class="muted">正在读取…</p>
      }
    </section>

    <section class="block">
      <div class="head">
        <h3>按模型的成功率与延迟</h3>
        <app-range-toggle [ranges]="ranges" [value]="range()" (picked)="loadModels($event)" label="按模型统计的时间范围" testid="overview-models-range" />
      </div>
      @if (modelStats(); as stats) {
        @if (stats.length === 0) {
          <p class="muted" data-testid="overview-models-empty">这段时间内没有发往这个提供商的请求。</p>
        } @else {
          <table class="models" data-testid="overview-models">
            <thead>
              <tr>
                <th scope="col">模型</th>
                <th scope="col">尝试</th>
                <th scope="col"><span [matTooltip]="successHelp" class="defined">成功率</span></th>
                <th scope="col">p50</th>
                <th scope="col">p95</th>
              </tr>
            </thead>
            <tbody>
              @for (m of stats; track m.model) {
                <tr data-testid="overview-model-row" [attr.data-model]="m.model">
                  <td class="mono">{{ m.model }}</td>
                  <td>{{ m.attempts }}</td>
                  <td [class]="'tone-' + m.tone">{{ m.rate }}</td>
                  <td>{{ m.p50 }}</td>
                  <td>{{ m.p95 }}</td>
                </tr>
              }
            </tbody>
          </table>
        }
      } @else if (modelsFailed()) {
        <p class="muted">读取按模型的统计失败。</p>
      } @else {
        <p class="muted">正在读取…</p>
      }
    </section>

    <section class="block">
      <h3>最近失败的请求</h3>
      @if (failures(); as list) {
        @if (list.length === 0) {
          <p class="muted">没有失败的请求。</p>
        } @else {
          <ol class="lines" data-testid="overview-failures">
            @for (f of list; track $index) {
              <li>
                <span class="at">{{ clock(f.at) }}</span>
                <span class="mono">{{ f.model }}</span>
                <span class="tone-danger">HTTP {{ f.status }} · {{ f.text }}</span>
              </li>
            }
          </ol>
        }
      }
      <a mat-button routerLink="/logs" [queryParams]="{ provider: provider().name, status: 'error' }" data-testid="overview-logs-link">
        在请求日志中查看 {{ provider().name }} 的失败请求<mat-icon iconPositionEnd>chevron_right</mat-icon>
      </a>
    </section>

    <section class="block">
      <h3>密钥池</h3>
      <ul class="lines" data-testid="overview-keys">
        @for (k of keys(); track k.id) {
          <li [class]="'tone-' + k.tone">
            <span class="mono">{{ k.masked }}</span>
            <span>{{ k.stateLabel }}{{ k.countdown ? ' · ' + k.countdown : '' }}</span>
            @if (k.detail) {
              <span class="muted">{{ k.detail }}</span>
            }
          </li>
        }
      </ul>
    </section>
  `,
  styles: `
    :host {
      display: flex;
      flex-direction: column;
      gap: 16px;
      padding-top: 12px;
    }
    h3 {
      margin: 0 0 6px;
      font: var(--mat-sys-title-small);
    }
    .detail,
    .muted {
      margin: 0;
    }
    .muted {
      color: var(--app-muted);
    }
    .lines {
      list-style: none;
      margin: 0;
      padding: 0;
      display: flex;
      flex-direction: column;
      gap: 4px;
    }
    .lines li {
      display: flex;
      flex-wrap: wrap;
      gap: 2px 10px;
      overflow-wrap: anywhere;
    }
    .at {
      font-variant-numeric: tabular-nums;
      color: var(--app-muted);
    }
    .mono {
      font-family: var(--app-font-mono);
      font-size: 12px;
    }
    .head {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      justify-content: space-between;
      gap: 4px 12px;
      margin-bottom: 6px;
    }
    .head h3 {
      margin: 0;
    }
    .models {
      width: 100%;
      border-collapse: collapse;
      font-variant-numeric: tabular-nums;
    }
    .models th,
    .models td {
      padding: 4px 8px 4px 0;
      text-align: right;
      white-space: nowrap;
    }
    .models th:first-child,
    .models td:first-child {
      text-align: left;
      white-space: normal;
      overflow-wrap: anywhere;
    }
    .models th {
      font: var(--mat-sys-label-medium);
      color: var(--app-muted);
    }
    .defined {
      text-decoration: underline dotted;
      cursor: help;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ProviderOverview implements OnInit {
  readonly provider = input.required<ProviderDetail>();
  private readonly api = inject(ApiService);
  private readonly destroyRef = inject(DestroyRef);

  protected readonly checks = signal<ReturnType<typeof checkLine>[] | null>(null);
  protected readonly failures = signal<ReturnType<typeof failureLine>[] | null>(null);
  protected readonly condition = computed(() => conditionInfo(this.provider().condition));
  protected readonly keys = computed(() => this.provider().keys.map((k) => keyRow(k, Date.now())));
  protected readonly clock = formatClock;
  protected readonly ranges = MODEL_STAT_RANGES;
  protected readonly successHelp = MODEL_SUCCESS_HELP;
  /** Only the latest range's answer is shown (a slow earlier one is cancelled); the table clears meanwhile. */
  private readonly models = new RangeLoad<ProviderModelStats>({
    fetch: (range) => this.api.providerModelStats(this.provider().name, range),
    initial: '24h',
    keepWhileLoading: false,
  });
  protected readonly range = this.models.range;
  protected readonly modelStats = computed(() => this.models.data()?.items.map(modelStatLine) ?? null);
  protected readonly modelsFailed = computed(() => this.models.error() !== null);

  /** Per-model attempts, 成功率 and latency of this provider over `range`. */
  loadModels(range: StatsRange): void {
    this.models.load(range);
  }

  /** The checks and the failures, shown together; a part that cannot be read shows as none. Dropped if the dialog closes first. */
  ngOnInit(): void {
    const name = this.provider().name;
    this.loadModels(this.range());
    forkJoin({
      checks: this.api.healthHistory(name, RECENT_CHECKS).pipe(
        map((h) => h.items.map(checkLine)),
        catchError(() => of([])),
      ),
      failures: this.api.logs({ provider: name, status: 'error', pageSize: RECENT_FAILURES }).pipe(
        map((page) => page.items.map((e) => failureLine(e, name))),
        catchError(() => of([])),
      ),
    })
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe(({ checks, failures }) => {
        this.checks.set(checks);
        this.failures.set(failures);
      });
  }
}
