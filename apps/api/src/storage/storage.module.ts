import { join } from 'node:path';
import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import type { RedisConnection } from './redis/redis-connection.ts';
import { RedisStorage } from './redis/redis-storage.ts';
import { SqliteStorage } from './sqlite/sqlite-storage.ts';
import { REDIS_CONNECTION, STORAGE, type Storage } from './storage.ts';

export const SQLITE_FILE_NAME = 'gpt4free-pool.db';

/**
 * The store the configuration names, opened and migrated: Redis (cluster mode) with REDIS_URL,
 * otherwise the embedded SQLite file under DATA_DIR. The service and the `admin` command both
 * open it here, so that they cannot disagree about where the data is.
 */
export async function openStorage(config: AppConfig): Promise<Storage> {
  const storage: Storage = config.redis
    ? new RedisStorage({ url: config.redis.url, prefix: config.redis.keyPrefix, maxLogEntries: config.redis.logMaxEntries })
    : new SqliteStorage({
        file: join(config.dataDir, SQLITE_FILE_NAME),
        maxLogEntries: config.stats.logMaxEntries,
        maxStatsRows: config.stats.maxRows,
      });
  await storage.init();
  return storage;
}

/**
 * Closes the store in Nest's last shutdown phase: buffers flushed from onModuleDestroy or
 * beforeApplicationShutdown (request log, stats) are written before the file is closed.
 */
@Injectable()
export class StorageCloser implements OnApplicationShutdown {
  constructor(@Inject(STORAGE) private readonly storage: Storage) {}

  async onApplicationShutdown(): Promise<void> {
    await this.storage.close();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: STORAGE,
      useFactory: openStorage,
      inject: [APP_CONFIG],
    },
    {
      provide: REDIS_CONNECTION,
      useFactory: (storage: Storage): RedisConnection | null => (storage instanceof RedisStorage ? storage.connection : null),
      inject: [STORAGE],
    },
    StorageCloser,
  ],
  exports: [STORAGE, REDIS_CONNECTION],
})
export class StorageModule {}
