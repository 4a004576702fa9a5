import type { LoggerService } from '@nestjs/common';

/** Collects what the app logs (messages, and an error's stack), for tests that read the log as an operator would. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(String(message));
  }
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
  error(message: unknown, stack?: unknown): void {
    this.lines.push(stack === undefined ? String(message) : `${String(message)} ${String(stack)}`);
  }
}
