import { Logger } from '@nestjs/common';
import { config as rxjsConfig } from 'rxjs';

/** Longest logged error (message and the top of its stack). */
const MAX_LINE = 2_000;
/** Errors logged in full per window; the rest are only counted, so a flood cannot flood the log. */
const MAX_PER_WINDOW = 10;
const WINDOW_MS = 60_000;

/**
 * The net under every request: an error no request path caught (a throw in a timer, a listener
 * or an RxJS subscriber, a rejected promise nobody awaited) is logged, bounded, and the gateway
 * keeps serving every other request, instead of Node's default of exiting with all of them.
 * Request paths route their own errors to their request; reaching this is a bug to fix, logged
 * as such.
 *
 * Installed once the server listens: a failure during startup still ends the process with a
 * non-zero code, as an operator expects. Returns an uninstall function.
 */
export function installLastResort(logger = new Logger('LastResort')): () => void {
  let windowStart = 0;
  let logged = 0;
  let suppressed = 0;
  const report = (kind: string, err: unknown): void => {
    const now = Date.now();
    if (now - windowStart >= WINDOW_MS) {
      if (suppressed > 0) logger.error(`${suppressed} more unhandled errors in the last minute were not logged`);
      windowStart = now;
      logged = 0;
      suppressed = 0;
    }
    if (logged >= MAX_PER_WINDOW) {
      suppressed += 1;
      return;
    }
    logged += 1;
    logger.error(`${kind}, the gateway keeps serving: ${describe(err)}`);
  };
  const onException = (err: unknown) => report('Uncaught exception', err);
  const onRejection = (reason: unknown) => report('Unhandled promise rejection', reason);
  const onRxjs = (err: unknown) => report('Unhandled error in an RxJS subscriber', err);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  const previousRxjs = rxjsConfig.onUnhandledError;
  rxjsConfig.onUnhandledError = onRxjs;
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
    if (rxjsConfig.onUnhandledError === onRxjs) rxjsConfig.onUnhandledError = previousRxjs;
  };
}

/** The error's stack (or message) on one bounded line. */
export function describe(err: unknown): string {
  let text: string;
  try {
    text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  } catch {
    text = 'an error that cannot be shown';
  }
  text = text.replace(/\s*\n\s*/g, ' | ');
  return text.length > MAX_LINE ? `${text.slice(0, MAX_LINE)}… (${text.length - MAX_LINE} more characters)` : text;
}
