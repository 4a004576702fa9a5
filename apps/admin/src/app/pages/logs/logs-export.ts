import { ChangeDetectionStrategy, Component, DOCUMENT, InjectionToken, inject, input, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatMenuModule } from '@angular/material/menu';
import { MatTooltipModule } from '@angular/material/tooltip';
import type { HttpResponse } from '@angular/common/http';
import { ApiService } from '../../core/api.service';
import { describeApiError } from '../../core/api-error';
import { type LogQuery, apiParams } from './logs-view';

export type ExportFormat = 'csv' | 'jsonl';

export const EXPORT_FORMATS: ReadonlyArray<{ format: ExportFormat; label: string; hint: string }> = [
  { format: 'csv', label: 'CSV', hint: '表格软件（Excel、WPS）可直接打开' },
  { format: 'jsonl', label: 'JSONL', hint: '每行一条完整记录，含全部尝试' },
];

/** `GET /api/logs/export` parameters: the filters the page shows (a time preset ending `now`), without paging. */
export function exportParams(q: LogQuery, now: number, format: ExportFormat): Record<string, string | number> {
  const { page: _page, pageSize: _size, ...filters } = apiParams(q, now);
  return { ...filters, format };
}

/** The file name the server gave (`content-disposition`), else one made here. */
export function exportFileName(res: HttpResponse<unknown>, format: ExportFormat): string {
  const m = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '');
  return m?.[1] ?? `request-log.${format}`;
}

/** Hands a downloaded file to the browser to save. A token, so that tests (without a DOM) can watch it. */
export const SAVE_FILE = new InjectionToken<(blob: Blob, name: string) => void>('SAVE_FILE', {
  providedIn: 'root',
  factory: () => {
    const doc = inject(DOCUMENT);
    return (blob, name) => {
      const url = URL.createObjectURL(blob);
      const a = doc.createElement('a');
      a.href = url;
      a.download = name;
      doc.body.appendChild(a);
      a.click();
      a.remove();
      // After the click has handed the file over.
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    };
  },
});

/** 导出 on 请求日志: the current filter's whole log as CSV or JSONL. */
@Component({
  selector: 'app-logs-export',
  imports: [MatButtonModule, MatIconModule, MatMenuModule, MatTooltipModule],
  template: `
    <button
      mat-stroked-button
      type="button"
      [matMenuTriggerFor]="menu"
      [disabled]="disabled() || busy()"
      [matTooltip]="error() ?? '按当前筛选导出全部匹配的日志'"
      data-testid="logs-export"
    >
      <mat-icon>{{ busy() ? 'sync' : 'save' }}</mat-icon>
      {{ busy() ? '正在导出…' : '导出' }}
    </button>
    <mat-menu #menu="matMenu">
      @for (f of formats; track f.format) {
        <button mat-menu-item type="button" (click)="download(f.format)" [attr.data-format]="f.format">
          <span>{{ f.label }}</span>
          <span class="hint">{{ f.hint }}</span>
        </button>
      }
    </mat-menu>
    @if (error(); as e) {
      <span class="app-visually-hidden" role="alert">{{ e }}</span>
    }
  `,
  styles: `
    .hint {
      margin-left: 8px;
      font-size: 12px;
      opacity: 0.7;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class LogsExport {
  private readonly api = inject(ApiService);
  private readonly save = inject(SAVE_FILE);

  readonly query = input.required<LogQuery>();
  readonly disabled = input(false);

  protected readonly formats = EXPORT_FORMATS;
  readonly busy = signal(false);
  readonly error = signal<string | null>(null);

  download(format: ExportFormat): void {
    if (this.busy()) return;
    this.busy.set(true);
    this.error.set(null);
    this.api.exportLogs(exportParams(this.query(), Date.now(), format)).subscribe({
      next: (res) => {
        this.busy.set(false);
        if (res.body) this.save(res.body, exportFileName(res, format));
      },
      error: (err: unknown) => {
        this.busy.set(false);
        this.error.set(`导出失败：${describeApiError(err).message}`);
      },
    });
  }
}
