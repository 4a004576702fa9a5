import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module.ts';
import type { RedisConnection } from '../storage/redis/redis-connection.ts';
import { REDIS_CONNECTION } from '../storage/storage.ts';
import { BreakerSync } from './breaker-sync.service.ts';
import { CLUSTER_BUS, LocalClusterBus, type ClusterBus } from './cluster-bus.ts';
import { RedisClusterBus } from './redis-cluster-bus.ts';

/**
 * What replicas tell each other besides the shared store: the bus (over the store's Redis in
 * cluster mode, nowhere in the embedded mode) and the breaker openings sent on it.
 */
@Module({
  imports: [ProvidersModule],
  providers: [
    {
      provide: CLUSTER_BUS,
      useFactory: (redis: RedisConnection | null): ClusterBus => (redis ? new RedisClusterBus(redis) : new LocalClusterBus()),
      inject: [REDIS_CONNECTION],
    },
    BreakerSync,
  ],
  exports: [CLUSTER_BUS, BreakerSync],
})
export class ClusterModule {}
