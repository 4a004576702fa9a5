import { Clipboard } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, DestroyRef, computed, inject, input, model, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatButtonToggleModule } from '@angular/material/button-toggle';
import { MatIconModule } from '@angular/material/icon';
import { highlight } from '../../pages/dashboard/highlight';
import type { Snippet, SnippetId } from '../../pages/dashboard/snippets';

/**
 * Code in one or more languages, highlighted, with a language switch (shared by the page through
 * `[(language)]`) and a copy button; used by 控制台's 快速开始 and by API 文档 (the CDK clipboard, which also works on plain-HTTP LAN hosts).
 */
@Component({
  selector: 'app-code-samples',
  imports: [MatButtonModule, MatButtonToggleModule, MatIconModule],
  template: `
    <div class="bar">
      @if (samples().length > 1) {
        <mat-button-toggle-group
          hideSingleSelectionIndicator
          class="langs"
          [value]="current().id"
          (change)="language.set($event.value)"
          [attr.aria-label]="caption() + '：示例语言'"
        >
          @for (s of samples(); track s.id) {
            <mat-button-toggle [value]="s.id" [attr.data-snippet]="s.id">{{ s.label }}</mat-button-toggle>
          }
        </mat-button-toggle-group>
      } @else {
        <span class="caption">{{ caption() || current().label }}</span>
      }
      <button
        mat-stroked-button
        type="button"
        class="copy"
        (click)="copy()"
        [attr.aria-label]="(copied() ? '已复制' : copyLabel()) + (caption() ? '：' + caption() : '')"
        [attr.data-testid]="copyTestId()"
      >
        <mat-icon>{{ copied() ? 'check' : 'content_copy' }}</mat-icon>
        {{ copied() ? '已复制' : copyLabel() }}
      </button>
    </div>
    <pre class="code" [attr.data-language]="current().id" tabindex="0" data-testid="code"><code [innerHTML]="html()"></code></pre>
  `,
  styles: `
    :host {
      display: flex;
      flex-direction: column;
      gap: 8px;
      min-width: 0;
    }
    .bar {
      display: flex;
      align-items: center;
      justify-content: space-between;
      gap: 8px;
      flex-wrap: wrap;
    }
    .caption {
      font: var(--mat-sys-label-large);
      color: var(--app-muted);
    }
    .langs {
      --mat-button-toggle-height: 32px;
      --mat-button-toggle-shape: 10px;
      --mat-button-toggle-label-text-size: 13px;
    }
    .copy {
      --mat-button-outlined-container-height: 32px;
    }
    .code {
      margin: 0;
      padding: 14px 16px;
      border-radius: 12px;
      background: var(--app-code-bg);
      border: 1px solid var(--app-card-border);
      color: var(--app-code-fg);
      font-size: 12.5px;
      line-height: 1.6;
      overflow: auto;
      max-height: 420px;
      tab-size: 4;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class CodeSamples {
  private readonly clipboard = inject(Clipboard);
  readonly samples = input.required<Snippet[]>();
  /** What the code is (for the copy button's label and a single sample's caption). */
  readonly caption = input('');
  /** The copy button's text, and its test id. */
  readonly copyLabel = input('复制');
  readonly copyTestId = input('copy-code');
  /** The language picked; a block without it shows its first sample. */
  readonly language = model<SnippetId>('python');

  protected readonly current = computed(() => this.samples().find((s) => s.id === this.language()) ?? this.samples()[0]!);
  protected readonly html = computed(() => highlight(this.current().code, this.current().language));
  protected readonly copied = signal(false);
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    inject(DestroyRef).onDestroy(() => clearTimeout(this.timer));
  }

  copy(): void {
    if (!this.clipboard.copy(this.current().code)) return;
    this.copied.set(true);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.copied.set(false), 2000);
  }
}
