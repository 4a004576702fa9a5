import { Clipboard } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, DestroyRef, computed, inject, input, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatTooltipModule } from '@angular/material/tooltip';
import { catchError, map, of } from 'rxjs';
import { ApiService } from '../../core/api.service';
import { CodeSamples } from '../../shared/code-samples/code-samples';
import { apiAccessNotice } from './api-access';
import { API_KEY_PLACEHOLDER, type SnippetId, buildSnippets } from './snippets';

/**
 * 快速开始: how to call this server, with its real base URL. Copying uses the CDK clipboard, which
 * also works on plain-HTTP LAN addresses where navigator.clipboard is unavailable.
 */
@Component({
  selector: 'app-quick-start',
  imports: [CodeSamples, MatButtonModule, MatIconModule, MatTooltipModule],
  templateUrl: './quick-start.html',
  styleUrl: './quick-start.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class QuickStart {
  private readonly clipboard = inject(Clipboard);
  readonly baseUrl = input.required<string>();
  readonly model = input.required<string>();

  protected readonly placeholder = API_KEY_PLACEHOLDER;
  /** Who may call /v1; no notice when it cannot be read (the rest of the dashboard says why). */
  protected readonly accessNotice = toSignal(
    inject(ApiService)
      .apiAccess()
      .pipe(
        map((a) => apiAccessNotice(a.mode)),
        catchError(() => of(null)),
      ),
    { initialValue: null },
  );
  protected readonly snippets = computed(() => buildSnippets(this.baseUrl(), this.model()));
  protected readonly selected = signal<SnippetId>('python');
  /** The base URL was just copied (for a moment). */
  protected readonly copied = signal(false);
  private copiedTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    inject(DestroyRef).onDestroy(() => clearTimeout(this.copiedTimer));
  }

  protected copyBaseUrl(): void {
    if (!this.clipboard.copy(this.baseUrl())) return;
    this.copied.set(true);
    clearTimeout(this.copiedTimer);
    this.copiedTimer = setTimeout(() => this.copied.set(false), 2000);
  }
}
