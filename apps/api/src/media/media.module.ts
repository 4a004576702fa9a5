import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import type { RedisConnection } from '../storage/redis/redis-connection.ts';
import { REDIS_CONNECTION } from '../storage/storage.ts';
import { ImageFilesController } from './image-files.controller.ts';
import { FileImageStore, ImageStore } from './image-store.ts';
import { RedisImageStore } from './redis-image-store.ts';

/**
 * Generated media the gateway hosts itself (image URLs). Needs APP_CONFIG and REDIS_CONNECTION,
 * which are global. In cluster mode the images live in Redis, so any replica serves any link.
 */
@Module({
  controllers: [ImageFilesController],
  providers: [
    {
      provide: ImageStore,
      useFactory: (config: AppConfig, redis: RedisConnection | null): ImageStore => (redis ? new RedisImageStore(redis, config) : new FileImageStore(config)),
      inject: [APP_CONFIG, REDIS_CONNECTION],
    },
  ],
  exports: [ImageStore],
})
export class MediaModule {}
