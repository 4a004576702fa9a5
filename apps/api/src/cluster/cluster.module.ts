import { Global, Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module.ts';
import { RedisClusterBus } from '../storage/redis/redis-cluster-bus.ts';
import { RedisStorage } from '../storage/redis/redis-storage.ts';
import { STORAGE, type Storage } from '../storage/storage.ts';
import { BreakerSync } from './breaker-sync.service.ts';
import { CLUSTER_BUS, LocalClusterBus, type ClusterBus } from './cluster-bus.ts';

/**
 * What replicas tell each other besides the shared store: the bus (over the store's Redis in
 * cluster mode, nowhere in the embedded mode) and the breaker openings sent on it.
 */
@Global()
@Module({
  imports: [ProvidersModule],
  providers: [
    {
      provide: CLUSTER_BUS,
      useFactory: (storage: Storage): ClusterBus => (storage instanceof RedisStorage ? new RedisClusterBus(storage.connection) : new LocalClusterBus()),
      inject: [STORAGE],
    },
    BreakerSync,
  ],
  exports: [CLUSTER_BUS, BreakerSync],
})
export class ClusterModule {}
