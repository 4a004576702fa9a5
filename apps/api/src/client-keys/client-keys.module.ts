import { Global, Module } from '@nestjs/common';
import { ClientKeysController } from './client-keys.controller.ts';
import { ClientKeysService } from './client-keys.service.ts';
import { InMemoryRateLimiter, RATE_LIMITER } from './rate-limiter.ts';

/**
 * Client API keys. Global because the /v1 guard, used by controllers in any module, needs the
 * key index and the rate limiter. The usage recorder (ClientKeyUsageRecorder) needs PoolEvents,
 * which lives in AppModule, so AppModule provides it.
 */
@Global()
@Module({
  controllers: [ClientKeysController],
  providers: [ClientKeysService, { provide: RATE_LIMITER, useClass: InMemoryRateLimiter }],
  exports: [ClientKeysService, RATE_LIMITER],
})
export class ClientKeysModule {}
