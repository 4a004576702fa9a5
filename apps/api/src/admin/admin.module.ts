import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.ts';
import { ClientKeysModule } from '../client-keys/client-keys.module.ts';
import { HealthModule } from '../health/health.module.ts';
import { ModelsModule } from '../models/models.module.ts';
import { OpenAICompatModule } from '../openai-compat/openai-compat.module.ts';
import { ProvidersModule } from '../providers/providers.module.ts';
import { RoutingModule } from '../routing/routing.module.ts';
import { ApiAccessController } from './api-access.controller.ts';
import { ModelsAdminController } from './models-admin.controller.ts';
import {
  EmbeddingsPlaygroundController,
  ImagePlaygroundController,
  PlaygroundController,
  PlaygroundLimitsController,
  TranscriptionPlaygroundController,
} from './playground.controller.ts';
import { ProvidersAdminController } from './providers-admin.controller.ts';
import { QuotasAdminController } from './quotas-admin.controller.ts';
import { RoutingAdminController } from './routing-admin.controller.ts';
import { UpstreamTrialController } from './upstream-trial.controller.ts';

/**
 * The console's management API under /api: providers, models, the playground, /v1's access mode. Features
 * with their own admin endpoints (login, client keys, stats, health) keep them in their own modules.
 */
@Module({
  imports: [AuthModule, ClientKeysModule, ProvidersModule, ModelsModule, HealthModule, OpenAICompatModule, RoutingModule],
  controllers: [
    ApiAccessController,
    ProvidersAdminController,
    QuotasAdminController,
    RoutingAdminController,
    PlaygroundController,
    ImagePlaygroundController,
    EmbeddingsPlaygroundController,
    TranscriptionPlaygroundController,
    PlaygroundLimitsController,
    ModelsAdminController,
    UpstreamTrialController,
  ],
})
export class AdminModule {}
