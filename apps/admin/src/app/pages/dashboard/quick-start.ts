import { Clipboard } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, DestroyRef, computed, inject, input, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatButtonToggleModule } from '@angular/material/button-toggle';
import { MatIconModule } from '@angular/material/icon';
import { MatTooltipModule } from '@angular/material/tooltip';
import { highlight } from './highlight';
import { API_KEY_PLACEHOLDER, type SnippetId, buildSnippets } from './snippets';

/**
 * 快速开始: how to call this server, with its real base URL. Copying uses the CDK clipboard, which
 * also works on plain-HTTP LAN addresses where navigator.clipboard is unavailable.
 */
@Component({
  selector: 'app-quick-start',
  imports: [MatButtonModule, MatButtonToggleModule, MatIconModule, MatTooltipModule],
  templateUrl: './quick-start.html',
  styleUrl: './quick-start.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class QuickStart {
  private readonly clipboard = inject(Clipboard);
  readonly baseUrl = input.required<string>();
  readonly model = input.required<string>();

  protected readonly placeholder = API_KEY_PLACEHOLDER;
  protected readonly snippets = computed(() => buildSnippets(this.baseUrl(), this.model()));
  protected readonly selected = signal<SnippetId>('python');
  protected readonly snippet = computed(() => this.snippets().find((s) => s.id === this.selected()) ?? this.snippets()[0]!);
  protected readonly html = computed(() => highlight(this.snippet().code, this.snippet().language));
  /** What was copied last ('base' or a snippet id), for a moment. */
  protected readonly copied = signal<string | null>(null);
  private copiedTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    inject(DestroyRef).onDestroy(() => clearTimeout(this.copiedTimer));
  }

  protected select(id: SnippetId): void {
    this.selected.set(id);
  }

  protected copy(what: string, text: string): void {
    if (!this.clipboard.copy(text)) return;
    this.copied.set(what);
    clearTimeout(this.copiedTimer);
    this.copiedTimer = setTimeout(() => this.copied.set(null), 2000);
  }
}
