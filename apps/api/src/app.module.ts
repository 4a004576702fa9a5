import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AdminModule } from './admin/admin.module.ts';
import { AuthModule } from './auth/auth.module.ts';
import { ClientKeysModule } from './client-keys/client-keys.module.ts';
import { ClusterModule } from './cluster/cluster.module.ts';
import { ConsoleModule } from './console/console.module.ts';
import { APP_CONFIG, type AppConfig } from './config/app-config.ts';
import { EventsModule } from './events/events.module.ts';
import { HealthModule } from './health/health.module.ts';
import { MediaModule } from './media/media.module.ts';
import { MetricsModule } from './metrics/metrics.module.ts';
import { ModelsModule } from './models/models.module.ts';
import { OpenAICompatModule } from './openai-compat/openai-compat.module.ts';
import { OpenAIExceptionFilter } from './openai-compat/openai-exception.filter.ts';
import { ProvidersModule } from './providers/providers.module.ts';
import { RoutingModule } from './routing/routing.module.ts';
import { StatsModule } from './stats/stats.module.ts';
import { StorageModule } from './storage/storage.module.ts';

@Global()
@Module({})
class ConfigModule {
  static register(config: AppConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}

@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config),
        EventsModule,
        ScheduleModule.forRoot(),
        StorageModule,
        AuthModule,
        ClientKeysModule,
        ProvidersModule,
        ModelsModule,
        RoutingModule,
        ClusterModule,
        MediaModule,
        HealthModule,
        StatsModule,
        MetricsModule,
        OpenAICompatModule,
        AdminModule,
        // Last: the admin console at `/` and its SPA fallback (it leaves API paths alone).
        ConsoleModule,
      ],
      // App-wide, /api included: every error leaves as OpenAI's error envelope.
      providers: [{ provide: APP_FILTER, useClass: OpenAIExceptionFilter }],
    };
  }
}
