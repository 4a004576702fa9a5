import 'reflect-metadata';
import { Logger, type LogLevel, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { json } from 'express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.ts';
import { requestIdMiddleware } from './common/request-id.middleware.ts';
import { maskUrlCredentials } from './common/redact.ts';
import { OpenAIValidationPipe } from './common/validation.pipe.ts';
import type { AppConfig } from './config/app-config.ts';
import { AppLifecycle, DrainingExpressAdapter } from './health/app-lifecycle.service.ts';
import { ClientKeysService } from './client-keys/client-keys.service.ts';
import { setupApiDocs } from './docs/openapi.ts';
import { CatalogService } from './models/catalog.service.ts';
import { ProviderRegistry } from './providers/provider-registry.service.ts';

/**
 * body-parser reads an empty body as {}. On /v1, where every POST needs a body, an empty one is
 * not JSON, so say so; management actions (POST …/toggle) legitimately send none.
 */
function rejectEmptyBody(req: { url?: string }, _res: unknown, buf: Buffer): void {
  if (buf.length === 0 && req.url?.startsWith('/v1/')) throw Object.assign(new SyntaxError('empty body'), { type: 'entity.parse.failed', status: 400 });
}

export interface CreateAppOptions {
  logger?: false | LogLevel[] | LoggerService;
}

/** Builds the application exactly as production runs it; tests use this too. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const adapter = new DrainingExpressAdapter();
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), adapter, {
    bodyParser: false,
    // Otherwise Nest exits the process on a DI error, and a ConfigError never reaches main.ts.
    abortOnError: false,
    logger: options.logger ?? ['log', 'warn', 'error'],
  });
  app.disable('x-powered-by');
  // No ETag: hashing every answer body costs CPU per request, and no client revalidates a completion.
  app.set('etag', false);
  // Before the body parser, so that its errors (bad JSON, too large) carry an x-request-id too.
  app.use(requestIdMiddleware);
  // Counts requests in flight; refuses new ones once shutdown has begun.
  const lifecycle = app.get(AppLifecycle);
  app.use(lifecycle.gate);
  app.use(json({ limit: config.bodyLimitBytes, type: ['application/json', 'application/*+json', 'text/plain'], verify: rejectEmptyBody }));
  app.useGlobalPipes(new OpenAIValidationPipe());
  app.enableCors({ exposedHeaders: ['x-request-id', 'x-pool-provider', 'x-pool-upstream-model'] });
  // Swagger UI at /docs and the OpenAPI document at /docs-json, public, assets served locally.
  setupApiDocs(app);
  // app.close() (and so SIGTERM/SIGINT) first drains the requests in flight, up to SHUTDOWN_GRACE_SECONDS,
  // then runs the shutdown hooks; after a signal the process exits 0 (Nest would re-raise the signal).
  adapter.drainWith(() => lifecycle.drain(app.getHttpServer()));
  app.enableShutdownHooks([], { useProcessExit: true });
  return app;
}

/** Says what the pool can actually do right now: which providers will be tried, and why not the others. */
export function logStartup(app: NestExpressApplication, config: AppConfig, url: string): void {
  const log = new Logger('GPT4FreePool');
  const keys = config.apiKeys.length || app.get(ClientKeysService).any();
  log.log(`OpenAI-compatible API at ${url}/v1 (${keys ? 'an API key is required' : 'open: no API_KEY and no client key'})`);
  log.log(`API docs (Swagger UI) at ${url}/docs, OpenAPI document at ${url}/docs-json`);
  const catalog = app.get(CatalogService);
  for (const provider of app.get(ProviderRegistry).all()) {
    const { status, reason } = provider.status();
    const routes = catalog.all().filter((m) => m.routes.some((r) => r.provider === provider.name)).length;
    const keys = provider.keys.size ? `, ${provider.keys.size} key(s)` : '';
    const line = `${provider.name}: ${status}${reason ? ` (${reason})` : ''}, ${routes} models${keys}, ${maskUrlCredentials(provider.baseUrl)}`;
    if (status === 'available') log.log(line);
    else log.warn(line);
  }
}
