import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.ts';
import type { RedisConnection } from '../storage/redis/redis-connection.ts';
import { REDIS_CONNECTION } from '../storage/storage.ts';
import { ClientKeyUsageRecorder } from './client-key-usage.service.ts';
import { ClientKeysController } from './client-keys.controller.ts';
import { ClientKeysService } from './client-keys.service.ts';
import { InMemoryRateLimiter, RATE_LIMITER, type RateLimiter } from './rate-limiter.ts';
import { RedisRateLimiter } from './redis-rate-limiter.ts';

/**
 * Client API keys: their admin endpoints, the key index and the rate limiter the /v1 guard
 * (OpenAICompatModule) checks, and the usage recorder that counts each key's requests.
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
    ClientKeyUsageRecorder,
  ],
  exports: [ClientKeysService, RATE_LIMITER],
})
export class ClientKeysModule {}
