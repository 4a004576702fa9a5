import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { ApiAccess } from '#contracts';
import { ClientKeysService, secretDigest } from '../client-keys/client-keys.service.ts';
import { RATE_LIMITER, type RateLimiter } from '../client-keys/rate-limiter.ts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';

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

const LOCAL_ONLY_MESSAGE =
  'This gateway has no API key, so /v1 only answers requests from its own machine. To open it, create a client key in the console ' +
  "(or set API_KEY) and send it as 'Authorization: Bearer YOUR_KEY', or set ALLOW_OPEN_API=true to let anyone use it without a key.";

/**
 * Protects /v1. It accepts the API_KEY keys and the active client keys made in the console;
 * with neither (no API_KEY, and no client key ever created) the API is open as in the seed, any
 * key or none accepted, but by default only to clients on this machine (see openApiAllows).
 * Client keys are looked up in the in-memory index ClientKeysService keeps in sync with the
 * store, so no request waits on storage; a client key's rpm limit is enforced here.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly digests: Buffer[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clientKeys: ClientKeysService,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiter,
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
    const key = presentedKey(req);
    if (!key) {
      throw new ApiError(401, "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.", 'authentication_error', 'missing_api_key');
    }
    // Hashing first gives equal lengths, so the comparison takes the same time for any input;
    // every configured key is compared, so timing does not reveal which one matched.
    const presented = secretDigest(key);
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(d, presented) || ok;
    if (ok) return true;

    const client = this.clientKeys.match(presented);
    if (!client) throw new ApiError(401, 'Incorrect API key provided.', 'authentication_error', 'invalid_api_key');
    if (client.revoked) throw new ApiError(401, 'This API key has been revoked.', 'authentication_error', 'invalid_api_key');
    if (client.rpmLimit === null) {
      req.clientKeyId = client.id;
      return true;
    }
    const limit = client.rpmLimit;
    return this.limiter.hit(client.id, limit, Date.now()).then(({ allowed, retryAfterSec }) => {
      if (!allowed) {
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
      req.clientKeyId = client.id;
      return true;
    });
  }
}
