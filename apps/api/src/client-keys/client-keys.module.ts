import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.ts';
import type { RedisConnection } from '../storage/redis/redis-connection.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { REDIS_CONNECTION, STORAGE, type Storage } from '../storage/storage.ts';
import { ClientKeyUsageRecorder } from './client-key-usage.service.ts';
import { ClientKeysController } from './client-keys.controller.ts';
import { ClientKeysService } from './client-keys.service.ts';
import { InMemoryRateLimiter, RATE_LIMITER, type RateLimiter } from './rate-limiter.ts';
import { quotaPeriods } from './key-limits.ts';
import { InMemoryQuotaStore, QUOTA_STORE, type QuotaStore } from './quota-store.ts';
import { RedisQuotaStore } from './redis-quota-store.ts';
import { RedisRateLimiter } from './redis-rate-limiter.ts';

/**
 * Client API keys: their admin endpoints, the key index and the rate limiter the /v1 guard
 * (OpenAICompatModule) checks, the quota store it counts quotas and concurrency in, and the usage recorder that counts each key's requests.
 */
@Module({
  imports: [AuthModule],
  controllers: [ClientKeysController],
  providers: [
    ClientKeysService,
    {
      provide: RATE_LIMITER,
      // Cluster mode counts in Redis, so a key's limit holds across replicas.
      useFactory: (redis: RedisConnection | null): RateLimiter => (redis ? new RedisRateLimiter(redis) : new InMemoryRateLimiter()),
      inject: [REDIS_CONNECTION],
    },
    {
      provide: QUOTA_STORE,
      // Like the rate limiter: quotas and concurrency are counted in Redis in cluster mode.
      useFactory: (redis: RedisConnection | null, storage: Storage, config: AppConfig): QuotaStore =>
        redis ? new RedisQuotaStore(redis) : new InMemoryQuotaStore(storage, () => quotaPeriods(Date.now(), config.quotaTimeZone)),
      inject: [REDIS_CONNECTION, STORAGE, APP_CONFIG],
    },
    ClientKeyUsageRecorder,
  ],
  exports: [ClientKeysService, RATE_LIMITER, QUOTA_STORE],
})
export class ClientKeysModule {}
