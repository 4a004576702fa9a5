/** Client keys shaped by libs/contracts, for the unit tests of 密钥 and 请求日志 (not used by the app). */
import { NO_CLIENT_KEY_LIMITS, type ClientKey, type CreatedClientKey } from '#contracts';

/** A key without limits. */
export const NO_LIMITS = NO_CLIENT_KEY_LIMITS;

export function clientKey(id: string, extra: Partial<ClientKey> = {}): ClientKey {
  return {
    id,
    name: `key ${id}`,
    maskedKey: 'sk-g4f-…wxyz',
    createdAt: Date.UTC(2026, 10, 26, 6, 0),
    lastUsedAt: null,
    requests: 0,
    tokens: 0,
    ...NO_LIMITS,
    revoked: false,
    revokedAt: null,
    quotaUsage: [],
    ...extra,
  };
}

export function createdKey(id: string, extra: Partial<CreatedClientKey> = {}): CreatedClientKey {
  return { ...clientKey(id), secret: `sk-g4f-${'s'.repeat(43)}`, ...extra };
}
