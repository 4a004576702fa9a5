/** Client keys shaped by libs/contracts, for the unit tests of 密钥 and 请求日志 (not used by the app). */
import type { ClientKey, CreatedClientKey } from '#contracts';

export function clientKey(id: string, extra: Partial<ClientKey> = {}): ClientKey {
  return {
    id,
    name: `key ${id}`,
    maskedKey: 'sk-g4f-…wxyz',
    createdAt: Date.UTC(2026, 10, 26, 6, 0),
    lastUsedAt: null,
    requests: 0,
    tokens: 0,
    rpmLimit: null,
    revoked: false,
    revokedAt: null,
    ...extra,
  };
}

export function createdKey(id: string, extra: Partial<CreatedClientKey> = {}): CreatedClientKey {
  return { ...clientKey(id), secret: `sk-g4f-${'s'.repeat(43)}`, ...extra };
}
