import { ChangeDetectionStrategy, Component, InjectionToken, effect, inject, signal, untracked } from '@angular/core';
import { MatChipsModule, type MatChipInputEvent } from '@angular/material/chips';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatSlideToggleModule, type MatSlideToggleChange } from '@angular/material/slide-toggle';
import { firstValueFrom } from 'rxjs';
import type { CacheSettings } from '#contracts';
import { ApiService } from '../../core/api.service';
import { formatCount } from '../../core/format';
import { Notice } from '../providers/notice';
import type { DashboardSnapshot } from './dashboard-view';
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

/** The longest model id the gateway takes (PUT /api/cache). */
const MAX_MODEL_ID = 200;

/**
 * However quiet the traffic, the panel reads /api/cache again after this long (ms), at the
 * dashboard's next poll: entries expire, and another admin or replica may change the settings.
 */
export const CACHE_REFRESH_MS = new InjectionToken<number>('CACHE_REFRESH_MS', { providedIn: 'root', factory: () => 60_000 });

/**
 * What the dashboard's polls already say about the cache: every hit and every answer it stores is
 * a request the stats count. Null before the first poll.
 */
export function trafficMark(snapshot: DashboardSnapshot | null): string | null {
  const stats = snapshot?.stats;
  return stats ? `${stats.range} ${stats.totals.requests}` : null;
}

/**
 * When the panel reads /api/cache: once when the dashboard opens, then at a poll whose stats show
 * traffic since the last read, or once CACHE_REFRESH_MS has passed since it. A poll without
 * either reads nothing: /api/cache counts the file's entries, which is not free on the server.
 */
export class CacheRefresh {
  private mark: string | null = null;
  private readAt: number | null = null;
  private reading = false;
  private missed = false;

  constructor(private readonly refreshMs: number) {}

  /** Whether to read now; each `true` must be followed by read()'s outcome. */
  due(mark: string | null, now: number): boolean {
    // The first poll's mark is where the traffic stands, not a change: the read at the opening covers it.
    const changed = mark !== null && this.mark !== null && mark !== this.mark;
    if (mark !== null) this.mark = mark;
    // Traffic seen during a read may have come after it: the next poll reads again.
    this.missed ||= changed && this.reading;
    if (this.reading) return false;
    if (this.readAt !== null && !changed && !this.missed && now - this.readAt < this.refreshMs) return false;
    this.reading = true;
    this.missed = false;
    return true;
  }

  /** A read ended: `ok` starts the quiet period; a failed one is tried again at the next poll. */
  read(ok: boolean, now: number): void {
    this.reading = false;
    if (ok) this.readAt = now;
  }
}

/**
 * 控制台's response cache panel: its switch (stored, shared by every replica; RESPONSE_CACHE until
 * set here), the models cached whatever their temperature (RESPONSE_CACHE_MODELS, and those added
 * here), and what it saved, read again when the dashboard's polls show traffic (CacheRefresh).
 */
@Component({
  selector: 'app-response-cache',
  imports: [MatChipsModule, MatFormFieldModule, MatIconModule, MatSlideToggleModule],
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
          temperature 为 0、带 seed 或是下列强制缓存模型的请求只向上游请求一次，之后从缓存回答（流式照样流式）。{{
            s.source === 'console' ? '在管理台设置，所有副本共享' : '来自环境变量 RESPONSE_CACHE'
          }}；有效期 {{ duration(s.ttlMs) }}，当前 {{ count(s.entries) }} 条、{{ bytes(s.bytes) }} / {{ bytes(s.maxBytes) }}。
        </p>
        <mat-form-field class="forced" subscriptSizing="dynamic" data-testid="cache-forced-models">
          <mat-label>强制缓存的模型</mat-label>
          <mat-chip-grid #forced aria-label="强制缓存的模型" [disabled]="saving()">
            @for (id of s.configModels; track id) {
              <mat-chip-row [removable]="false" [editable]="false" data-testid="cache-config-model" title="来自环境变量 RESPONSE_CACHE_MODELS">{{
                id
              }}</mat-chip-row>
            }
            @for (id of s.models; track id) {
              <mat-chip-row (removed)="removeModel(id)" [attr.data-model]="id" data-testid="cache-forced-model">
                {{ id }}
                <button matChipRemove [attr.aria-label]="'取消强制缓存 ' + id"><mat-icon>cancel</mat-icon></button>
              </mat-chip-row>
            }
          </mat-chip-grid>
          <input
            placeholder="输入模型 id，回车添加"
            [maxLength]="maxModelId"
            [matChipInputFor]="forced"
            (matChipInputTokenEnd)="addModel($event)"
            data-testid="cache-forced-input"
          />
          <mat-hint>这些模型的请求无论 temperature 多少都缓存（同一请求总得到同一个回答）</mat-hint>
        </mat-form-field>
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
    .forced {
      width: 100%;
      margin-top: 12px;
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
  protected readonly maxModelId = MAX_MODEL_ID;
  private readonly refresh = new CacheRefresh(inject(CACHE_REFRESH_MS));

  constructor() {
    // Runs once at the start (the dashboard opens) and after every poll of the dashboard.
    effect(() => {
      const mark = trafficMark(this.store.snapshot());
      untracked(() => {
        if (this.refresh.due(mark, Date.now())) void this.load();
      });
    });
  }

  private async load(): Promise<void> {
    try {
      this.settings.set(await firstValueFrom(this.api.cache()));
      this.refresh.read(true, Date.now());
    } catch {
      // The dashboard's own polls report an unreachable gateway; this panel just keeps its last view.
      this.refresh.read(false, Date.now());
    }
  }

  /** Enter (or a comma) in the input: the model joins the console's list, saved at once. */
  async addModel(event: MatChipInputEvent): Promise<void> {
    const id = event.value.trim();
    event.chipInput.clear();
    const s = this.settings();
    if (!id || !s || s.models.includes(id) || s.configModels.includes(id)) return;
    await this.saveModels([...s.models, id], `已强制缓存 ${id}`);
  }

  async removeModel(id: string): Promise<void> {
    const s = this.settings();
    if (s)
      await this.saveModels(
        s.models.filter((m) => m !== id),
        `已取消强制缓存 ${id}`,
      );
  }

  private async saveModels(models: string[], done: string): Promise<void> {
    this.saving.set(true);
    try {
      this.settings.set(await firstValueFrom(this.api.setCache({ models })));
      this.notice.ok(done);
    } catch (err) {
      this.notice.error('设置强制缓存的模型失败', err);
    } finally {
      this.saving.set(false);
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
