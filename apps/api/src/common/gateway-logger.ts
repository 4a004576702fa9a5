import { ConsoleLogger } from '@nestjs/common';

/**
 * Nest's own start-up chatter: a line per module, per controller and per route (a hundred and
 * more). Useful when debugging routing, noise otherwise: at the default level the gateway's own
 * summary says what matters.
 */
const FRAMEWORK_CONTEXTS: ReadonlySet<string> = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/** Nest's console logger, with the framework's start-up lines moved to the debug level. */
export class GatewayLogger extends ConsoleLogger {
  override log(message: unknown, ...rest: unknown[]): void {
    // Nest's Logger passes its context last.
    const context = rest.at(-1);
    if (typeof context === 'string' && FRAMEWORK_CONTEXTS.has(context)) this.debug(message, ...rest);
    else super.log(message, ...rest);
  }
}
