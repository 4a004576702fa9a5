import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AdminModule } from './admin/admin.module.ts';
import { ClientKeyUsageRecorder } from './client-keys/client-key-usage.service.ts';
import { ClientKeysModule } from './client-keys/client-keys.module.ts';
import { ClusterModule } from './cluster/cluster.module.ts';
import { ConsoleModule } from './console/console.module.ts';
import { ModelsAdminController } from './admin/models-admin.controller.ts';
import { ImagePlaygroundController, PlaygroundController } from './admin/playground.controller.ts';
import { ProvidersAdminController } from './admin/providers-admin.controller.ts';
import { OpenAIExceptionFilter } from './common/openai-exception.filter.ts';
import { APP_CONFIG, type AppConfig } from './config/app-config.ts';
import { EventsModule } from './events/events.module.ts';
import { HealthModule } from './health/health.module.ts';
import { CatalogService } from './models/catalog.service.ts';
import { DiscoveryService } from './models/discovery.service.ts';
import { ApiKeyGuard } from './openai-compat/api-key.guard.ts';
import { ChatController } from './openai-compat/chat.controller.ts';
import { ChatResponder } from './openai-compat/chat-responder.service.ts';
import { ChatService } from './openai-compat/chat.service.ts';
import { ImagesController } from './openai-compat/images.controller.ts';
import { ImagesResponder } from './openai-compat/images-responder.service.ts';
import { ImagesService } from './openai-compat/images.service.ts';
import { ModelsController } from './openai-compat/models.controller.ts';
import { SpeechController } from './openai-compat/speech.controller.ts';
import { SpeechService } from './openai-compat/speech.service.ts';
import { MediaModule } from './media/media.module.ts';
import { MetricsModule } from './metrics/metrics.module.ts';
import { ProvidersModule } from './providers/providers.module.ts';
import { FailoverService } from './routing/failover.service.ts';
import { RouterService } from './routing/router.service.ts';
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
        AdminModule,
        ClientKeysModule,
        ProvidersModule,
        ClusterModule,
        MediaModule,
        HealthModule,
        StatsModule,
        MetricsModule,
        // Last: the admin console at `/` and its SPA fallback (it leaves API paths alone).
        ConsoleModule,
      ],
      controllers: [
        ChatController,
        ImagesController,
        SpeechController,
        ModelsController,
        ProvidersAdminController,
        PlaygroundController,
        ImagePlaygroundController,
        ModelsAdminController,
      ],
      providers: [
        CatalogService,
        DiscoveryService,
        RouterService,
        FailoverService,
        ChatService,
        ChatResponder,
        ImagesService,
        ImagesResponder,
        SpeechService,
        ClientKeyUsageRecorder,
        ApiKeyGuard,
        { provide: APP_FILTER, useClass: OpenAIExceptionFilter },
      ],
    };
  }
}
