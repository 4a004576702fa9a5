import { ChangeDetectionStrategy, Component, type OnInit, computed, inject, input, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import type { ProviderDetail, RequestLogEntry } from '#contracts';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { ApiService, type ProviderHealthHistoryView } from '../../core/api.service';
import { attemptText, finalErrorText } from '../../core/attempt-text';
import { formatClock, formatDuration } from '../../core/format';
import { conditionInfo, keyRow, probeText } from './providers-view';

const RECENT_CHECKS = 10;
const RECENT_FAILURES = 5;

/** One failed request as the overview lists it: when, which model, what happened in Chinese. */
export function failureLine(entry: RequestLogEntry, provider: string): { at: number; model: string; status: number; text: string } {
  const mine = [...entry.attempts].reverse().find((a) => a.provider.toLowerCase() === provider.toLowerCase() && a.reason !== 'ok');
  return { at: entry.startedAt, model: entry.model, status: entry.status, text: mine ? attemptText(mine) : (finalErrorText(entry) ?? '请求失败') };
}

/**
 * A provider at a glance: its condition, its recent checks (time, what was tested, result,
 * latency), its last failed requests with a link to 请求日志 filtered to it, and each key's state.
 */
@Component({
  selector: 'app-provider-overview',
  imports: [RouterLink, MatButtonModule, MatIconModule],
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
        @if (list.items.length === 0) {
          <p class="muted">还没有检查记录。</p>
        } @else {
          <ol class="lines" data-testid="overview-checks">
            @for (c of list.items; track c.checkedAt) {
              <li [class]="c.ok ? 'tone-success' : 'tone-danger'">
                <span class="at">{{ clock(c.checkedAt) }}</span>
                <span>{{ tested(c.probe) }}</span>
                <span>{{ c.ok ? '通过' : '失败' }} · {{ duration(c.latencyMs) }}</span>
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
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ProviderOverview implements OnInit {
  readonly provider = input.required<ProviderDetail>();
  private readonly api = inject(ApiService);

  protected readonly checks = signal<ProviderHealthHistoryView | null>(null);
  protected readonly failures = signal<ReturnType<typeof failureLine>[] | null>(null);
  protected readonly condition = computed(() => conditionInfo(this.provider().condition));
  protected readonly keys = computed(() => this.provider().keys.map((k) => keyRow(k, Date.now())));
  protected readonly clock = formatClock;
  protected readonly duration = formatDuration;
  protected readonly tested = (probe: string) => probeText({ probe: probe as 'chat' | 'models' | 'none' });

  async ngOnInit(): Promise<void> {
    const name = this.provider().name;
    const [checks, logs] = await Promise.allSettled([
      firstValueFrom(this.api.healthHistory(name, RECENT_CHECKS)),
      firstValueFrom(this.api.logs({ provider: name, status: 'error', pageSize: RECENT_FAILURES })),
    ]);
    this.checks.set(checks.status === 'fulfilled' ? checks.value : { provider: name, items: [] });
    this.failures.set(logs.status === 'fulfilled' ? logs.value.items.map((e) => failureLine(e, name)) : []);
  }
}
