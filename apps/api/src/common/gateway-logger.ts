import { ConsoleLogger } from '@nestjs/common';

/**
 * Nest's own start-up chatter: a line per module, per controller and per route (a hundred and
 * more). Useful when debugging routing, noise otherwise: at the default level the gateway's own
 * summary says what matters.
 */
const FRAMEWORK_CONTEXTS: ReadonlySet<string> = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

const twoDigits = (n: number): string => String(n).padStart(2, '0');

/**
 * Local time the way Nest prints it in the en-US locale (`12/07/2026, 1:53:34 PM`), without Intl:
 * Nest's Intl.DateTimeFormat would load ICU's locale data (~7 MB of RSS) for this line alone.
 */
export function logTimestamp(at: Date): string {
  const hours = at.getHours();
  const date = `${twoDigits(at.getMonth() + 1)}/${twoDigits(at.getDate())}/${at.getFullYear()}`;
  return `${date}, ${hours % 12 || 12}:${twoDigits(at.getMinutes())}:${twoDigits(at.getSeconds())} ${hours < 12 ? 'AM' : 'PM'}`;
}

/** Nest's console logger, with the framework's start-up lines moved to the debug level. */
export class GatewayLogger extends ConsoleLogger {
  override log(message: unknown, ...rest: unknown[]): void {
    // Nest's Logger passes its context last.
    const context = rest.at(-1);
    if (typeof context === 'string' && FRAMEWORK_CONTEXTS.has(context)) this.debug(message, ...rest);
    else super.log(message, ...rest);
  }

  protected override getTimestamp(): string {
    return logTimestamp(new Date());
  }
}
