import { ChangeDetectionStrategy, Component, effect, inject, signal, untracked } from '@angular/core';
import { MatIconModule } from '@angular/material/icon';
import { MatSlideToggleModule, type MatSlideToggleChange } from '@angular/material/slide-toggle';
import { firstValueFrom } from 'rxjs';
import type { CacheSettings } from '#contracts';
import { ApiService } from '../../core/api.service';
import { formatCount } from '../../core/format';
import { Notice } from '../providers/notice';
import { DashboardStore } from './dashboard.store';

/** Bytes in the console's words: 812 B, 3.4 KB, 12.5 MB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 ** 2).toFixed(1)} MB`;
}

/** A TTL in the largest whole unit: 1 小时, 90 分钟, 45 秒. */
export function formatTtl(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} 小时`;
  if (ms % 60_000 === 0) return `${ms / 60_000} 分钟`;
  return `${Math.round(ms / 1000)} 秒`;
}

/**
 * 控制台's response cache panel: its switch (stored, shared by every replica; RESPONSE_CACHE until
 * set here) and what it saved, refreshed with the dashboard's polls.
 */
@Component({
  selector: 'app-response-cache',
  imports: [MatIconModule, MatSlideToggleModule],
  providers: [Notice],
  template: `
    @if (settings(); as s) {
      <section class="cache" aria-labelledby="cache-title" data-testid="response-cache" [attr.data-enabled]="s.enabled">
        <header>
          <mat-icon class="tone-primary" aria-hidden="true">cached</mat-icon>
          <h2 id="cache-title">响应缓存</h2>
          <mat-slide-toggle [checked]="s.enabled" [disabled]="saving()" (change)="toggle($event)" data-testid="cache-toggle" aria-label="开启响应缓存">
            {{ s.enabled ? '已开启' : '已关闭' }}
          </mat-slide-toggle>
        </header>
        <p class="saved" data-testid="cache-saved">
          已省下 <strong data-testid="cache-saved-requests">{{ count(s.saved.requests) }}</strong> 次请求 ·
          <strong data-testid="cache-saved-tokens">{{ count(s.saved.promptTokens + s.saved.completionTokens) }}</strong> Token
        </p>
        <p class="help">
          temperature 为 0 或带 seed 的请求只向上游请求一次，之后从缓存回答（流式照样流式）。{{
            s.source === 'console' ? '在管理台设置，所有副本共享' : '来自环境变量 RESPONSE_CACHE'
          }}；有效期 {{ duration(s.ttlMs) }}，当前 {{ count(s.entries) }} 条、{{ bytes(s.bytes) }} / {{ bytes(s.maxBytes) }}。
        </p>
      </section>
    }
  `,
  styles: `
    .cache header {
      display: flex;
      align-items: center;
      gap: 8px;
    }
    h2 {
      flex: 1;
      margin: 0;
      font: var(--mat-sys-title-medium);
    }
    .saved {
      margin: 12px 0 4px;
      font: var(--mat-sys-body-large);
    }
    .help {
      margin: 0;
      color: var(--app-muted);
      font: var(--mat-sys-body-small);
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ResponseCache {
  private readonly api = inject(ApiService);
  private readonly notice = inject(Notice);
  private readonly store = inject(DashboardStore);
  protected readonly settings = signal<CacheSettings | null>(null);
  protected readonly saving = signal(false);
  protected readonly count = formatCount;
  protected readonly duration = formatTtl;
  protected readonly bytes = formatBytes;

  constructor() {
    // Read again with every poll of the dashboard, so the savings follow the traffic.
    effect(() => {
      this.store.snapshot();
      untracked(() => void this.load());
    });
  }

  private async load(): Promise<void> {
    try {
      this.settings.set(await firstValueFrom(this.api.cache()));
    } catch {
      // The dashboard's own polls report an unreachable gateway; this panel just keeps its last view.
    }
  }

  async toggle(change: MatSlideToggleChange): Promise<void> {
    this.saving.set(true);
    try {
      this.settings.set(await firstValueFrom(this.api.setCache({ enabled: change.checked })));
      this.notice.ok(change.checked ? '响应缓存已开启' : '响应缓存已关闭');
    } catch (err) {
      change.source.checked = !change.checked;
      this.notice.error('设置响应缓存失败', err);
    } finally {
      this.saving.set(false);
    }
  }
}
