// First: Nest's logger modules must load with their date formatters deferred (see nest-common.ts).
import './common/nest-common.ts';
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Logger, type LogLevel, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CorsOptionsDelegate } from '@nestjs/common/interfaces/external/cors-options.interface.js';
import cors from 'cors';
import { json, type NextFunction, type Request, type Response } from 'express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.ts';
import { ApiError } from './common/api-error.ts';
import { middlewareChain } from './common/middleware-chain.ts';
import { requestIdMiddleware, requestIdOf } from './common/request-id.middleware.ts';
import { dropUnreadAnswers } from './common/unread-answer.ts';
import { maskUrlCredentials } from './common/redact.ts';
import { OpenAIValidationPipe } from './common/validation.pipe.ts';
import { GatewayLogger } from './common/gateway-logger.ts';
import type { AppConfig, LogLevelName } from './config/app-config.ts';
import { consoleDirCandidates } from './console/console-static.ts';
import { truncate } from './events/record-bounds.ts';
import { AppLifecycle, DrainingExpressAdapter } from './lifecycle/app-lifecycle.service.ts';
import { ClientKeysService } from './client-keys/client-keys.service.ts';
import { setupApiDocs } from './openapi/openapi.ts';
import { anthropicRequestId, errorEnvelope } from './openai-compat/anthropic-errors.ts';
import { CatalogService } from './models/catalog.service.ts';
import { ModelAvailabilityService } from './models/model-availability.ts';
import { ProviderRegistry, type ProviderState } from './providers/provider-registry.service.ts';
import { SQLITE_FILE_NAME } from './storage/storage.module.ts';

/** The one /v1 route that takes a multipart form (an audio upload) instead of JSON. */
const MULTIPART_PATH = '/v1/audio/transcriptions';
/** The console's transcription playground takes the same upload (under /api, so JSON is not required there). */
const UPLOAD_PATHS = new Set([MULTIPART_PATH, '/api/audio/transcriptions/test']);
/**
 * Room for a transcription form's text fields and part headers beside the file itself. A body
 * over file + this is refused here, answered whole; one that passes is cut by multer at the
 * file's limit, which may reset a client still sending.
 */
const MULTIPART_FIELDS_BYTES = 64 * 1024;

/** A /v1 POST whose body is not JSON (text/plain, a form) is refused, not read as an empty request. */
function requireJsonBody(req: Request, res: Response, next: NextFunction): void {
  const type = req.headers['content-type'];
  if (req.method !== 'POST' || !req.url.startsWith('/v1/') || !type || /^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) return next();
  // Multer reads the form there (with its own limits); a JSON body there is refused by validation.
  if (req.path === MULTIPART_PATH && /^multipart\/form-data\b/i.test(type)) return next();
  const error = new ApiError(
    415,
    "The request body must be JSON: send it with 'Content-Type: application/json'.",
    'invalid_request_error',
    'unsupported_media_type',
  );
  res.status(415).json(errorEnvelope(error, req.path, requestIdOf(res)));
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
function rejectOversizedBody(bodyLimit: number, uploadLimit: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const declared = Number(req.headers['content-length']);
    // An audio upload has its own limit (its file, plus room for the form's fields).
    const upload = UPLOAD_PATHS.has(req.path);
    const limit = upload ? uploadLimit + MULTIPART_FIELDS_BYTES : bodyLimit;
    if (!(declared > limit)) return next();
    const error = new ApiError(
      413,
      `The request body is too large: ${declared} bytes, the limit (${upload ? 'TRANSCRIPTION_MAX_BYTES' : 'BODY_LIMIT'}) is ${limit}.`,
      'invalid_request_error',
      'request_too_large',
    );
    // The rest of the body is never read: the socket is ended after the answer, and destroyed if
    // the client does not let go of it soon after.
    res.once('finish', () => setTimeout(() => req.socket.destroy(), 1000).unref());
    res.status(413).setHeader('connection', 'close');
    res.json(errorEnvelope(error, req.path, requestIdOf(res)));
  };
}

/**
 * CORS: none on /api (the console is served from the same origin) or anywhere else but /v1. On
 * /v1, the CORS_ORIGINS list; by default `*` only while a client key is required (API_KEY or a
 * client key): an open /v1 must not be drivable from any web page a visitor of this machine opens.
 */
function corsFor(config: AppConfig, keyRequired: () => boolean): CorsOptionsDelegate<Request> {
  const exposedHeaders = ['x-request-id', 'request-id', 'x-pool-provider', 'x-pool-upstream-model'];
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

/** How long an idle client connection is kept open; see createApp. */
export const KEEP_ALIVE_MS = 65_000;

/** Builds the application exactly as production runs it; tests use this too. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const adapter = new DrainingExpressAdapter();
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), adapter, {
    bodyParser: false,
    // Otherwise Nest exits the process on a DI error, and a ConfigError never reaches main.ts.
    abortOnError: false,
    logger: options.logger ?? new GatewayLogger({ logLevels: nestLogLevels(config.logLevel) }),
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
  // Counts requests in flight; refuses new ones once shutdown has begun.
  const lifecycle = app.get(AppLifecycle);
  const clientKeys = app.get(ClientKeysService);
  // What every request goes through, in this order, as one router layer (see middlewareChain).
  app.use(
    middlewareChain(
      // Before the body parser, so that its errors (bad JSON, too large) carry an x-request-id too.
      requestIdMiddleware,
      anthropicRequestId,
      dropUnreadAnswers(config.limits.clientStallMs),
      lifecycle.gate,
      rejectOversizedBody(config.bodyLimitBytes, config.transcriptions.maxFileBytes),
      // JSON content types only: a text/plain POST is a "simple" cross-site request that browsers send
      // without a CORS preflight, so parsing it would let any web page drive /v1.
      json({ limit: config.bodyLimitBytes, type: ['application/json', 'application/*+json'], verify: rejectEmptyBody }),
      requireJsonBody,
      // What app.enableCors installs.
      cors(corsFor(config, () => config.apiKeys.length > 0 || clientKeys.any())),
    ),
  );
  app.useGlobalPipes(new OpenAIValidationPipe());
  // Swagger UI at /docs and the OpenAPI document at /docs-json, public, assets served locally.
  setupApiDocs(app);
  // app.close() (and so SIGTERM/SIGINT) first drains the requests in flight, up to SHUTDOWN_GRACE_SECONDS,
  // then runs the shutdown hooks; after a signal the process exits 0 (Nest would re-raise the signal).
  adapter.drainWith(() => lifecycle.drain(app.getHttpServer()));
  app.enableShutdownHooks([], { useProcessExit: true });
  return app;
}

/** LOG_LEVEL as Nest's levels: the level named and every level above it (`info` is Nest's `log`). */
export function nestLogLevels(level: LogLevelName): LogLevel[] {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  return order.slice(0, order.indexOf(level === 'info' ? 'log' : level) + 1);
}

/** Bounds on the start-up summary: a PROVIDERS_FILE may define many upstreams. */
const MAX_PROVIDER_LINES = 8;
const MAX_LINE_CHARS = 600;

/** Why a provider cannot serve, for the operator: which variable to set, or where it was switched off. */
function whyUnusable(provider: ProviderState): string {
  if (provider.enabled) return provider.missingConfig() ?? 'not usable';
  if (provider.overridden.includes('enabled')) return 'disabled in the console';
  const prefix = provider.adapter.declaration?.envPrefix;
  return prefix ? `disabled (${prefix}_ENABLED=false)` : 'disabled';
}

function logAccess(log: Logger, config: AppConfig, app: NestExpressApplication, url: string): void {
  const keys = config.apiKeys.length || app.get(ClientKeysService).any();
  if (keys) log.log(`OpenAI-compatible API at ${url}/v1 (an API key is required)`);
  else if (config.access.allowOpenApi) log.warn(`OpenAI-compatible API at ${url}/v1, open to every client without a key (ALLOW_OPEN_API=true)`);
  else
    log.warn(
      `OpenAI-compatible API at ${url}/v1, only for clients on this machine: there is no API_KEY and no client key. ` +
        'To serve other machines, create a client key in the console (or set API_KEY), or set ALLOW_OPEN_API=true to open it without a key.',
    );
}

function logConsole(log: Logger, config: AppConfig, url: string): void {
  const dirs = config.consoleDir ? [config.consoleDir] : consoleDirCandidates();
  if (!dirs.some((d) => existsSync(join(d, 'index.html')))) {
    log.warn(`Admin console (管理控制台) not built yet: run \`npm run build:admin\`, then open ${url}/ (the API works without it)`);
    return;
  }
  const password = config.admin.password ? 'ADMIN_PASSWORD' : 'the password generated at first start; forgot it? `npm run admin -- reset-password`';
  log.log(`Admin console (管理控制台) at ${url}/ (log in with ${password})`);
}

/** Which providers can serve (they have what they need) and why the others cannot; reachability is only known once used or checked. */
function logProviders(log: Logger, app: NestExpressApplication): void {
  const registry = app.get(ProviderRegistry);
  const catalog = app.get(CatalogService);
  const models = (p: ProviderState) => catalog.all().filter((m) => m.routes.some((r) => registry.find(r.provider) === p)).length;
  const all = registry.all();
  const usable = all.filter((p) => !p.unusableReason());
  const unusable = all.filter((p) => p.unusableReason());
  if (usable.length)
    log.log(truncate(`Usable providers (${usable.length}): ${usable.map((p) => `${p.name} (${models(p)} models)`).join(', ')}`, MAX_LINE_CHARS));
  else log.warn('No usable provider: every request will fail until a provider below gets its key or is enabled');
  for (const p of unusable.slice(0, MAX_PROVIDER_LINES)) log.warn(truncate(`${p.name} not usable: ${whyUnusable(p)}`, MAX_LINE_CHARS));
  if (unusable.length > MAX_PROVIDER_LINES)
    log.warn(`… and ${unusable.length - MAX_PROVIDER_LINES} more providers not usable (see the console's provider page)`);
  for (const p of all) {
    const keys = p.keys.size ? `, ${p.keys.size} key(s)` : '';
    log.debug(`${p.name}: ${p.status().status}, ${models(p)} models${keys}, ${maskUrlCredentials(p.baseUrl)}`);
  }
}

function logModels(log: Logger, app: NestExpressApplication): void {
  const availability = app.get(ModelAvailabilityService);
  const catalog = app.get(CatalogService).all();
  const { chat, image, audio } = availability.byCapability();
  const available = chat.available + image.available + audio.available;
  const line =
    `Models available now: ${available} of ${catalog.length} (chat ${chat.available}/${chat.models}, image ${image.available}/${image.models}, ` +
    `audio ${audio.available}/${audio.models}); GET /v1/models lists them, /v1/models?all=true says why the others are not`;
  if (available) log.log(line);
  else log.warn(line);
  for (const model of catalog) {
    const { reason } = availability.of(model);
    log.debug(`model ${model.id}: ${reason ? `not available (${reason})` : 'available'}`);
  }
}

/**
 * Says where everything is and what the pool can do right now, in a dozen lines: where the
 * console and the API are, which providers can serve and why the others cannot. Each route and
 * model is at the debug level (LOG_LEVEL=debug).
 */
export function logStartup(app: NestExpressApplication, config: AppConfig, url: string): void {
  const log = new Logger('GPT4FreePool');
  log.log(`Listening on ${url} (HOST=${config.host}, PORT=${config.port})`);
  logConsole(log, config, url);
  logAccess(log, config, app, url);
  log.log(`API docs (Swagger UI) at ${url}/docs, OpenAPI document at ${url}/docs-json; health at ${url}/health`);
  const storage = config.redis ? `Redis ${maskUrlCredentials(config.redis.url)} (cluster mode)` : `SQLite ${join(config.dataDir, SQLITE_FILE_NAME)}`;
  log.log(`Storage: ${storage}`);
  logProviders(log, app);
  logModels(log, app);
  if (config.logLevel === 'info') log.log('LOG_LEVEL=debug also lists every route, provider setting and model at start');
}
