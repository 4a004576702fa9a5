import 'reflect-metadata';
import { Logger, type LogLevel, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CorsOptionsDelegate } from '@nestjs/common/interfaces/external/cors-options.interface.js';
import { json, type NextFunction, type Request, type Response } from 'express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.ts';
import { ApiError } from './common/api-error.ts';
import { requestIdMiddleware } from './common/request-id.middleware.ts';
import { maskUrlCredentials } from './common/redact.ts';
import { OpenAIValidationPipe } from './common/validation.pipe.ts';
import type { AppConfig } from './config/app-config.ts';
import { AppLifecycle, DrainingExpressAdapter } from './lifecycle/app-lifecycle.service.ts';
import { ClientKeysService } from './client-keys/client-keys.service.ts';
import { setupApiDocs } from './openapi/openapi.ts';
import { CatalogService } from './models/catalog.service.ts';
import { ProviderRegistry } from './providers/provider-registry.service.ts';

/** A /v1 POST whose body is not JSON (text/plain, a form) is refused, not read as an empty request. */
function requireJsonBody(req: Request, res: Response, next: NextFunction): void {
  const type = req.headers['content-type'];
  if (req.method !== 'POST' || !req.url.startsWith('/v1/') || !type || /^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) return next();
  const error = new ApiError(
    415,
    "The request body must be JSON: send it with 'Content-Type: application/json'.",
    'invalid_request_error',
    'unsupported_media_type',
  );
  res.status(415).json(error.toEnvelope());
}

/**
 * body-parser reads an empty body as {}. On /v1, where every POST needs a body, an empty one is
 * not JSON, so say so; management actions (POST …/toggle) legitimately send none.
 */
function rejectEmptyBody(req: { url?: string }, _res: unknown, buf: Buffer): void {
  if (buf.length === 0 && req.url?.startsWith('/v1/')) throw Object.assign(new SyntaxError('empty body'), { type: 'entity.parse.failed', status: 400 });
}

/**
 * A declared Content-Length over the limit is answered 413 at once and the connection closed,
 * instead of reading (and discarding) the whole body first. Bodies without a length (chunked) are
 * cut by the body parser as soon as they pass the limit.
 */
function rejectOversizedBody(limit: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const declared = Number(req.headers['content-length']);
    if (!(declared > limit)) return next();
    const error = new ApiError(
      413,
      `The request body is too large: ${declared} bytes, the limit (BODY_LIMIT) is ${limit}.`,
      'invalid_request_error',
      'request_too_large',
    );
    // The rest of the body is never read: the socket is ended after the answer, and destroyed if
    // the client does not let go of it soon after.
    res.once('finish', () => setTimeout(() => req.socket.destroy(), 1000).unref());
    res.status(413).setHeader('connection', 'close');
    res.json(error.toEnvelope());
  };
}

/**
 * CORS: none on /api (the console is served from the same origin) or anywhere else but /v1. On
 * /v1, the CORS_ORIGINS list; by default `*` only while a client key is required (API_KEY or a
 * client key): an open /v1 must not be drivable from any web page a visitor of this machine opens.
 */
function corsFor(config: AppConfig, keyRequired: () => boolean): CorsOptionsDelegate<Request> {
  const exposedHeaders = ['x-request-id', 'x-pool-provider', 'x-pool-upstream-model'];
  const listed = config.access.corsOrigins;
  return (req, callback) => {
    const path = req.url ?? '';
    if (path !== '/v1' && !path.startsWith('/v1/') && !path.startsWith('/v1?')) return callback(null, { origin: false });
    if (listed) return callback(null, { origin: listed.includes('*') ? '*' : listed, exposedHeaders, maxAge: 600 });
    callback(null, { origin: keyRequired() ? '*' : false, exposedHeaders, maxAge: 600 });
  };
}

export interface CreateAppOptions {
  logger?: false | LogLevel[] | LoggerService;
}

/** Builds the application exactly as production runs it; tests use this too. */
/** How long an idle client connection is kept open; see createApp. */
export const KEEP_ALIVE_MS = 65_000;

export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const adapter = new DrainingExpressAdapter();
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), adapter, {
    bodyParser: false,
    // Otherwise Nest exits the process on a DI error, and a ConfigError never reaches main.ts.
    abortOnError: false,
    logger: options.logger ?? ['log', 'warn', 'error'],
  });
  app.disable('x-powered-by');
  // Idle keep-alive connections outlive the idle timeouts of the load balancers and proxies put in
  // front (60 s is common): with Node's 5 s, a proxy or SDK that reuses a connection just as the
  // gateway closes it gets a reset, which it reports as a failed request. Shutdown closes idle ones.
  const server = app.getHttpServer();
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1000;
  // req.ip (login throttle, loopback-only /v1) is the socket's address unless TRUST_PROXY says
  // which proxies may tell the client's.
  app.set('trust proxy', config.access.trustProxy);
  // No ETag: hashing every answer body costs CPU per request, and no client revalidates a completion.
  app.set('etag', false);
  // Before the body parser, so that its errors (bad JSON, too large) carry an x-request-id too.
  app.use(requestIdMiddleware);
  // Counts requests in flight; refuses new ones once shutdown has begun.
  const lifecycle = app.get(AppLifecycle);
  app.use(lifecycle.gate);
  app.use(rejectOversizedBody(config.bodyLimitBytes));
  // JSON content types only: a text/plain POST is a "simple" cross-site request that browsers send
  // without a CORS preflight, so parsing it would let any web page drive /v1.
  app.use(json({ limit: config.bodyLimitBytes, type: ['application/json', 'application/*+json'], verify: rejectEmptyBody }));
  app.use(requireJsonBody);
  app.useGlobalPipes(new OpenAIValidationPipe());
  const clientKeys = app.get(ClientKeysService);
  app.enableCors(corsFor(config, () => config.apiKeys.length > 0 || clientKeys.any()));
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
  if (keys) log.log(`OpenAI-compatible API at ${url}/v1 (an API key is required)`);
  else if (config.access.allowOpenApi) log.warn(`OpenAI-compatible API at ${url}/v1, open to every client without a key (ALLOW_OPEN_API=true)`);
  else
    log.warn(
      `OpenAI-compatible API at ${url}/v1, only for clients on this machine: there is no API_KEY and no client key. ` +
        'To serve other machines, create a client key in the console (or set API_KEY), or set ALLOW_OPEN_API=true to open it without a key.',
    );
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
