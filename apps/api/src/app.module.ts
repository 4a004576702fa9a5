import { Controller, Get, Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AdminModule } from './admin/admin.module.ts';
import { OpenAIExceptionFilter } from './common/openai-exception.filter.ts';
import { APP_CONFIG, type AppConfig } from './config/app-config.ts';
import { PoolEvents } from './events/pool-events.service.ts';
import { CatalogService } from './models/catalog.service.ts';
import { ApiKeyGuard } from './openai-compat/api-key.guard.ts';
import { ChatController } from './openai-compat/chat.controller.ts';
import { ChatService } from './openai-compat/chat.service.ts';
import { ModelsController } from './openai-compat/models.controller.ts';
import { ProvidersModule } from './providers/providers.module.ts';
import { FailoverService } from './routing/failover.service.ts';
import { RouterService } from './routing/router.service.ts';
import { StorageModule } from './storage/storage.module.ts';

@Controller('health')
class HealthController {
  @Get()
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

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
      imports: [ConfigModule.register(config), ScheduleModule.forRoot(), StorageModule, AdminModule, ProvidersModule],
      controllers: [ChatController, ModelsController, HealthController],
      providers: [
        CatalogService,
        RouterService,
        FailoverService,
        ChatService,
        PoolEvents,
        ApiKeyGuard,
        { provide: APP_FILTER, useClass: OpenAIExceptionFilter },
      ],
    };
  }
}
