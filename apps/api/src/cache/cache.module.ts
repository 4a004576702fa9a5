import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.ts';
import { CacheController } from './cache.controller.ts';
import { ResponseCacheService } from './response-cache.service.ts';

/** The response cache and its console endpoint; needs APP_CONFIG, STORAGE and REDIS_CONNECTION, which are global. */
@Module({
  imports: [AuthModule],
  controllers: [CacheController],
  providers: [ResponseCacheService],
  exports: [ResponseCacheService],
})
export class CacheModule {}
