import { ChangeDetectionStrategy, Component, input } from '@angular/core';

/** A model in the playground's model pickers: its id, 暂不可用 when no provider can serve it now, and a line under it. */
@Component({
  selector: 'app-playground-model-option',
  template: `
    <span class="opt-id" [class.unservable]="!servable()">{{ id() }}</span>
    @if (!servable()) {
      <span class="opt-tag">暂不可用</span>
    }
    <span class="opt-sub">{{ sub() }}</span>
  `,
  styleUrl: './playground-tags.scss',
  styles: `
    :host {
      display: block;
    }
    .opt-id {
      font-family: var(--app-font-mono);
      font-size: 13px;
    }
    .opt-id.unservable {
      color: var(--app-muted);
    }
    .opt-sub {
      display: block;
      font: var(--mat-sys-body-small);
      color: var(--app-muted);
      line-height: 1.3;
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PlaygroundModelOption {
  readonly id = input.required<string>();
  readonly servable = input.required<boolean>();
  /** What is said under the id: label, dimensions, providers. */
  readonly sub = input.required<string>();
}
