import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

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

/** Protects /v1 when API_KEY is set; with no keys configured the API is open, as in the seed. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly digests: Buffer[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.digests = config.apiKeys.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.digests.length === 0) return true;
    const key = presentedKey(context.switchToHttp().getRequest<Request>());
    if (!key) {
      throw new ApiError(401, "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.", 'authentication_error', 'missing_api_key');
    }
    // Hashing first gives equal lengths, so the comparison takes the same time for any input;
    // every configured key is compared, so timing does not reveal which one matched.
    const presented = digest(key);
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(d, presented) || ok;
    if (!ok) throw new ApiError(401, 'Incorrect API key provided.', 'authentication_error', 'invalid_api_key');
    return true;
  }
}
