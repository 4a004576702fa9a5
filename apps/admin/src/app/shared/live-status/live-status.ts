import { ChangeDetectionStrategy, Component, booleanAttribute, input } from '@angular/core';
import { formatClock } from '../../core/format';
import type { PollState } from '../../core/polling';

/**
 * The live line of a polling page's header: a dot (green, red while refreshes fail, grey when
 * paused), how often it refreshes, and when the data shown arrived. Put `data-testid` on it.
 */
@Component({
  selector: 'app-live-status',
  host: { '[class.stale]': 'state().failure() !== null', '[class.paused]': 'paused()', '[class.pulse]': 'pulse()' },
  template: `
    <span class="dot" aria-hidden="true"></span>
    @if (state().failure()) {
      <span>连接中断{{ paused() ? '' : '，正在重试…' }}</span>
    } @else if (paused()) {
      <span>已暂停</span>
    } @else {
      <span>{{ label() }}</span>
    }
    @if (state().updatedAt(); as at) {
      <span class="updated">更新于 {{ clock(at) }}</span>
    }
  `,
  styles: `
    :host {
      display: flex;
      align-items: center;
      gap: 8px;
      font: var(--mat-sys-label-large);
      color: var(--app-muted);
    }
    .dot {
      width: 8px;
      height: 8px;
      border-radius: 50%;
      background: var(--app-success);
    }
    :host(.pulse) .dot {
      box-shadow: 0 0 0 0 color-mix(in srgb, var(--app-success) 60%, transparent);
      animation: pulse 2s infinite;
    }
    :host(.paused) .dot {
      background: var(--app-neutral);
      animation: none;
    }
    :host(.stale) .dot {
      background: var(--app-danger);
      animation: none;
    }
    .updated {
      padding-left: 8px;
      border-left: 1px solid var(--app-card-border);
    }
    @keyframes pulse {
      0% {
        box-shadow: 0 0 0 0 color-mix(in srgb, var(--app-success) 60%, transparent);
      }
      70% {
        box-shadow: 0 0 0 8px transparent;
      }
      100% {
        box-shadow: 0 0 0 0 transparent;
      }
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class LiveStatus {
  readonly state = input.required<PollState>();
  /** What is said while refreshes work: 实时 · 每 5 秒刷新 … */
  readonly label = input.required<string>();
  /** Polling is switched off (the page's toggle). */
  readonly paused = input(false);
  /** The dot pulses while live. */
  readonly pulse = input(false, { transform: booleanAttribute });
  protected readonly clock = formatClock;
}
