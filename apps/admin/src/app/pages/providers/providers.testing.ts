/**
 * Test doubles for the unit tests of 提供商管理 (the components are driven as classes, without a
 * DOM): a snackbar and a dialog service that record what they were asked, and a way to set a
 * component's signal input.
 */
import { type InputSignal, ɵSIGNAL as SIGNAL } from '@angular/core';
import { type Observable, of } from 'rxjs';

export class FakeSnackBar {
  readonly messages: string[] = [];
  open(message: string): void {
    this.messages.push(message);
  }
}

export class FakeDialog {
  readonly opened: Array<{ component: unknown; config: Record<string, unknown> }> = [];
  /** What the next dialogs close with (a confirm's answer). */
  result: unknown = true;
  open(component: unknown, config: Record<string, unknown> = {}): { afterClosed(): Observable<unknown> } {
    this.opened.push({ component, config });
    const result = this.result;
    return { afterClosed: () => of(result) };
  }
}

/** What a template binding does to a signal input. */
export function setInput<T>(input: InputSignal<T>, value: T): void {
  const node = (input as unknown as Record<symbol, { applyValueToInputSignal(node: unknown, value: T): void }>)[SIGNAL]!;
  node.applyValueToInputSignal(node, value);
}
