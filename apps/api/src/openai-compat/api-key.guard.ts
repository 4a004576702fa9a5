import { randomUUID, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { ApiAccess } from '#contracts';
import { ClientKeysService, secretDigest, type ClientKeyMatch } from '../client-keys/client-keys.service.ts';
import { QUOTAS, ipAllowed, periodEndsAt, type QuotaPeriod } from '../client-keys/key-limits.ts';
import { QUOTA_STORE, type QuotaStore } from '../client-keys/quota-store.ts';
import { RATE_LIMITER, type RateLimiter } from '../client-keys/rate-limiter.ts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import type { ModelFilter } from '../models/auto-models.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { globMatches } from '../models/model-aliases.ts';

/** A /v1 request the guard let through with a client key carries that key's id (never its secret). */
export type ClientKeyRequest = Request & { clientKeyId?: string };

/** The key a client sent: `Authorization: Bearer …` (OpenAI SDKs, one-api) or `x-api-key`. */
export function presentedKey(req: Request): string | undefined {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    return m ? m[1]!.trim() : undefined;
  }
  const x = req.headers['x-api-key'];
  return typeof x === 'string' && x.trim() ? x.trim() : undefined;
}

const presentedDigests = new WeakMap<Request, Buffer | null>();

/**
 * The SHA-256 digest of the key a request presents (what keys are compared and known by), worked
 * out once per request: the guard and the stored responses' owner both need it.
 */
export function presentedDigest(req: Request): Buffer | undefined {
  let digest = presentedDigests.get(req);
  if (digest === undefined) {
    const key = presentedKey(req);
    digest = key ? secretDigest(key) : null;
    presentedDigests.set(req, digest);
  }
  return digest ?? undefined;
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(ip: string | undefined): boolean {
  if (!ip) return false;
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return v4 === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** What the open-API check looks at in a request. */
export interface OpenApiClient {
  /** The connection's own peer address. */
  socket: string | undefined;
  /** req.ip: the socket's address, or with TRUST_PROXY the client's as the proxies tell it. */
  ip: string | undefined;
  /** Whether the request carries X-Forwarded-For, Forwarded or X-Real-IP. */
  forwarded: boolean;
}

/**
 * With no key configured, may this client use /v1? Everyone with ALLOW_OPEN_API; otherwise only
 * this machine: the connection and the client the trusted proxies report must both be loopback
 * (a remote peer that TRUST_PROXY trusts could otherwise claim 127.0.0.1). A loopback socket with
 * forwarding headers while TRUST_PROXY is off is a reverse proxy on this machine relaying someone
 * else: not a local client either.
 */
export function openApiAllows(client: OpenApiClient, access: Pick<AppConfig['access'], 'allowOpenApi' | 'trustProxy'>): boolean {
  if (access.allowOpenApi) return true;
  if (!isLoopback(client.socket) || !isLoopback(client.ip)) return false;
  return access.trustProxy !== false || !client.forwarded;
}

/** Who may call /v1 right now (client keys can be created at any time). */
export function apiAccessMode(config: Pick<AppConfig, 'apiKeys' | 'access'>, anyClientKey: boolean): ApiAccess['mode'] {
  if (config.apiKeys.length > 0 || anyClientKey) return 'key';
  return config.access.allowOpenApi ? 'open' : 'local';
}

/**
 * The model a request names: `model` in a JSON body, or the id of `GET /v1/models/{id}`. Bodies
 * the guard cannot read yet (multipart, parsed after guards) name none here.
 */
export function requestedModel(req: Request): string | undefined {
  const body: unknown = req.body;
  if (typeof body === 'object' && body !== null && typeof (body as { model?: unknown }).model === 'string') return (body as { model: string }).model;
  const id: unknown = req.params?.id;
  if (req.method === 'GET' && /^\/v1\/models\//.test(req.path)) return Array.isArray(id) ? id.join('/') : typeof id === 'string' ? id : undefined;
  return undefined;
}

/**
 * Whether a model may be used: the id the client sent, or the catalog model it resolves to
 * (through an alias), matches one of the patterns, case-insensitively. [] allows every model.
 */
export function modelAllowed(patterns: readonly string[], requested: string, resolved: string | undefined): boolean {
  if (patterns.length === 0) return true;
  const ids = [requested.toLowerCase(), ...(resolved ? [resolved.toLowerCase()] : [])];
  return patterns.some((p) => ids.some((id) => globMatches(p.toLowerCase(), id)));
}

/**
 * A client key's allowed models as a filter over catalog models, for the models the gateway picks
 * itself (`auto`, a larger context); undefined when the key may use every model.
 */
export function allowedModelFilter(patterns: readonly string[] | undefined): ModelFilter | undefined {
  if (!patterns || patterns.length === 0) return undefined;
  return (model) => modelAllowed(patterns, model.id, model.id);
}

/** The filter of the client key a request came with (see allowedModelFilter); undefined for any other request. */
export function requestModelFilter(clientKeys: ClientKeysService, req: Request): ModelFilter | undefined {
  const id = (req as ClientKeyRequest).clientKeyId;
  return id === undefined ? undefined : allowedModelFilter(clientKeys.allowedModels(id));
}

/** The refusal of a model a key may not use (403 model_not_allowed), unless it is allowed. */
export function assertModelAllowed(patterns: readonly string[], requested: string, resolved: string | undefined): void {
  if (!modelAllowed(patterns, requested, resolved)) throw modelNotAllowed(requested);
}

/** 403 model_not_allowed, naming the model. */
export function modelNotAllowed(requested: string): ApiError {
  return new ApiError(403, `This API key may not use the model \`${requested.slice(0, 200)}\`.`, 'permission_error', 'model_not_allowed', 'model');
}

/** POSTs answered without an upstream (counted locally): not metered. */
const UNMETERED_POSTS = new Set(['/v1/messages/count_tokens']);

/**
 * Whether a request counts against quotas and takes a concurrency slot: the POSTs that reach
 * upstreams. Listing models, reading one's own key and billing, or counting tokens does not.
 */
export function isMetered(req: Pick<Request, 'method' | 'path'>): boolean {
  return req.method === 'POST' && !UNMETERED_POSTS.has(req.path.replace(/\/+$/, ''));
}

const QUOTA_PERIOD_WORDS: Record<QuotaPeriod, string> = { day: ' per day', month: ' per month', total: ' in total' };

const LOCAL_ONLY_MESSAGE =
  'This gateway has no API key, so /v1 only answers requests from its own machine. To open it, create a client key in the console ' +
  "(or set API_KEY) and send it as 'Authorization: Bearer YOUR_KEY', or set ALLOW_OPEN_API=true to let anyone use it without a key.";

/**
 * Protects /v1. It accepts the API_KEY keys and the active client keys made in the console;
 * with neither (no API_KEY, and no client key ever created) the API is open as in the seed, any
 * key or none accepted, but by default only to clients on this machine (see openApiAllows).
 * Client keys are looked up in the in-memory index ClientKeysService keeps in sync with the
 * store, so no request waits on storage. A client key's limits are enforced here, in this order:
 * expiry, client address, model (nothing counted yet), then the per-minute limit, and for POSTs
 * (the requests that reach upstreams) a concurrency slot and the quotas.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly digests: Buffer[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clientKeys: ClientKeysService,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiter,
    @Inject(QUOTA_STORE) private readonly quotas: QuotaStore,
    private readonly catalog: CatalogService,
  ) {
    this.digests = config.apiKeys.map(secretDigest);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const req = context.switchToHttp().getRequest<ClientKeyRequest>();
    if (this.digests.length === 0 && !this.clientKeys.any()) {
      const forwarded = Boolean(req.headers['x-forwarded-for'] ?? req.headers.forwarded ?? req.headers['x-real-ip']);
      if (openApiAllows({ socket: req.socket.remoteAddress, ip: req.ip, forwarded }, this.config.access)) return true;
      throw new ApiError(403, LOCAL_ONLY_MESSAGE, 'permission_error', 'api_local_only');
    }
    // Hashing first gives equal lengths, so the comparison takes the same time for any input;
    // every configured key is compared, so timing does not reveal which one matched.
    const presented = presentedDigest(req);
    if (!presented) {
      throw new ApiError(401, "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.", 'authentication_error', 'missing_api_key');
    }
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(d, presented) || ok;
    if (ok) return true;

    const client = this.clientKeys.match(presented);
    if (!client) throw new ApiError(401, 'Incorrect API key provided.', 'authentication_error', 'invalid_api_key');
    if (client.revoked) throw new ApiError(401, 'This API key has been revoked.', 'authentication_error', 'invalid_api_key');
    const now = Date.now();
    this.checkAccess(req, client, now);
    if (!isMetered(req)) return this.rateLimit(client, now).then(() => this.admitted(req, client));
    return this.rateLimit(client, now)
      .then(() => this.meter(req, context.switchToHttp().getResponse<Response>(), client, now))
      .then(() => this.admitted(req, client));
  }

  private admitted(req: ClientKeyRequest, client: ClientKeyMatch): true {
    req.clientKeyId = client.id;
    return true;
  }

  /** Expiry, client address and model: what a key may do at all, checked without counting anything. */
  private checkAccess(req: Request, client: ClientKeyMatch, now: number): void {
    const { expiresAt, allowedModels } = client.limits;
    if (expiresAt !== null && now >= expiresAt) {
      throw new ApiError(401, `This API key expired at ${new Date(expiresAt).toISOString()}.`, 'authentication_error', 'key_expired');
    }
    if (!ipAllowed(client.ips, req.ip)) {
      throw new ApiError(403, `This API key may not be used from your address (${String(req.ip).slice(0, 64)}).`, 'permission_error', 'ip_not_allowed');
    }
    // A multipart body (transcriptions) is parsed after guards: its controller checks the model itself.
    const model = requestedModel(req);
    if (model !== undefined) assertModelAllowed(allowedModels, model, this.catalog.lookup(model)?.model.id);
  }

  private async rateLimit(client: ClientKeyMatch, now: number): Promise<void> {
    const limit = client.limits.rpmLimit;
    if (limit === null) return;
    const { allowed, retryAfterSec } = await this.limiter.hit(client.id, limit, now);
    if (allowed) return;
    throw new ApiError(
      429,
      `Rate limit reached for this API key: ${limit} requests per minute. Please try again in ${retryAfterSec}s.`,
      'rate_limit_exceeded',
      'rate_limit_exceeded',
      null,
      undefined,
      { 'retry-after': String(retryAfterSec), 'x-ratelimit-limit-requests': String(limit), 'x-ratelimit-remaining-requests': '0' },
    );
  }

  /**
   * Takes a concurrency slot (given back when the response ends or the client goes away), then
   * counts the request against the quotas; a quota refusal gives the slot back at once.
   */
  private async meter(req: Request, res: Response, client: ClientKeyMatch, now: number): Promise<void> {
    const { concurrencyLimit } = client.limits;
    let release: (() => void) | undefined;
    if (concurrencyLimit !== null) {
      const lease = randomUUID();
      if (!(await this.quotas.acquire(client.id, concurrencyLimit, lease, now))) {
        throw new ApiError(
          429,
          `Too many concurrent requests for this API key: at most ${concurrencyLimit} at once. Wait for one to finish.`,
          'rate_limit_exceeded',
          'concurrency_limit_exceeded',
        );
      }
      let released = false;
      release = () => {
        if (released) return;
        released = true;
        void this.quotas.release(client.id, lease);
      };
      res.once('close', release);
      // A client that left before this point: 'close' has already been emitted. (Not req.destroyed:
      // a request whose body was read is destroyed while its answer is still to come.)
      if (req.socket.destroyed) release();
    }
    const checks = QUOTAS.flatMap((quota) => {
      const limit = client.limits[quota.name];
      return limit === null ? [] : [{ quota, limit }];
    });
    const periods = this.clientKeys.periods(now);
    const refused = await this.quotas.admit(client.id, periods, checks);
    if (!refused) return;
    release?.();
    const limit = client.limits[refused.name]!;
    const resetsAt = periodEndsAt(refused.period, periods);
    const when = resetsAt === null ? 'It does not reset: ask the operator for a higher quota.' : `It resets at ${new Date(resetsAt).toISOString()}.`;
    const headers: Record<string, string> = resetsAt === null ? {} : { 'retry-after': String(Math.max(1, Math.ceil((resetsAt - now) / 1000))) };
    throw new ApiError(
      429,
      `You exceeded this API key's quota ${refused.name} (${limit} ${refused.kind}${QUOTA_PERIOD_WORDS[refused.period]}). ${when}`,
      'insufficient_quota',
      'insufficient_quota',
      null,
      undefined,
      headers,
    );
  }
}
