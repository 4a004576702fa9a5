import { ChangeDetectionStrategy, Component, input } from '@angular/core';

/** The pool mark (the same drawing as public/favicon.svg), inline so it costs no request. */
@Component({
  selector: 'app-logo',
  template: `
    <svg viewBox="0 0 64 64" [attr.width]="size()" [attr.height]="size()" aria-hidden="true">
      <defs>
        <linearGradient [attr.id]="gradientId" x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stop-color="#4f9dff" />
          <stop offset="1" stop-color="#2dd4bf" />
        </linearGradient>
      </defs>
      <rect width="64" height="64" rx="16" [attr.fill]="'url(#' + gradientId + ')'" />
      <path d="M14 38c6-8 12-8 18 0s12 8 18 0" fill="none" stroke="#fff" stroke-width="5" stroke-linecap="round" />
      <path d="M14 26c6-8 12-8 18 0s12 8 18 0" fill="none" stroke="#fff" stroke-opacity=".6" stroke-width="5" stroke-linecap="round" />
    </svg>
  `,
  styles: ':host { display: inline-flex; flex: none; }',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Logo {
  readonly size = input(32);
  private static next = 0;
  protected readonly gradientId = `app-logo-g${Logo.next++}`;
}
