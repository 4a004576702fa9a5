import { Clipboard } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, DestroyRef, ViewEncapsulation, computed, inject, input } from '@angular/core';
import { DomSanitizer, type SafeHtml } from '@angular/platform-browser';
import { COPY_CODE_ATTR, renderMarkdown } from './markdown';
import { sanitizeHtml } from './sanitize';

/**
 * Renders Markdown (a chat answer) as sanitized HTML with highlighted code blocks; each block's
 * 复制 button copies its code. Re-rendered whenever `text` changes, so a streamed answer grows in
 * place; `streaming` adds a caret after the last line.
 */
@Component({
  selector: 'app-markdown',
  template: '<div class="md" [class.md-streaming]="streaming()" [innerHTML]="html()" (click)="onClick($event)"></div>',
  styleUrl: './markdown-view.scss',
  // The rendered HTML carries no component attributes: its styles are global, scoped under .md.
  encapsulation: ViewEncapsulation.None,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class MarkdownView {
  private readonly sanitizer = inject(DomSanitizer);
  private readonly clipboard = inject(Clipboard);
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  readonly text = input.required<string>();
  readonly streaming = input(false);

  // DOMPurify has cleaned it already; Angular's own sanitizer would strip the code blocks' copy buttons.
  protected readonly html = computed<SafeHtml>(() => this.sanitizer.bypassSecurityTrustHtml(sanitizeHtml(renderMarkdown(this.text()))));

  constructor() {
    inject(DestroyRef).onDestroy(() => this.timers.forEach(clearTimeout));
  }

  protected onClick(event: Event): void {
    const button = (event.target as Element | null)?.closest?.(`[${COPY_CODE_ATTR}]`) as HTMLElement | null;
    const code = button?.closest('.md-code')?.querySelector('code');
    if (!button || !code) return;
    if (!this.clipboard.copy(code.textContent ?? '')) return;
    button.textContent = '已复制';
    const timer = setTimeout(() => {
      button.textContent = '复制';
      this.timers.delete(timer);
    }, 1500);
    this.timers.add(timer);
  }
}
