import { Global, Module } from '@nestjs/common';
import { RedisRateLimiter } from '../storage/redis/redis-rate-limiter.ts';
import { RedisStorage } from '../storage/redis/redis-storage.ts';
import { STORAGE, type Storage } from '../storage/storage.ts';
import { ClientKeysController } from './client-keys.controller.ts';
import { ClientKeysService } from './client-keys.service.ts';
import { InMemoryRateLimiter, RATE_LIMITER, type RateLimiter } from './rate-limiter.ts';

/**
 * Client API keys. Global because the /v1 guard, used by controllers in any module, needs the
 * key index and the rate limiter. The usage recorder (ClientKeyUsageRecorder) needs PoolEvents,
 * which lives in AppModule, so AppModule provides it.
 */
@Global()
@Module({
  controllers: [ClientKeysController],
  providers: [
    ClientKeysService,
    {
      provide: RATE_LIMITER,
      // Cluster mode counts in Redis, so a key's limit holds across replicas.
      useFactory: (storage: Storage): RateLimiter => (storage instanceof RedisStorage ? new RedisRateLimiter(storage.connection) : new InMemoryRateLimiter()),
      inject: [STORAGE],
    },
  ],
  exports: [ClientKeysService, RATE_LIMITER],
})
export class ClientKeysModule {}
