import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module.ts';
import { ProvidersModule } from '../providers/providers.module.ts';
import { AffinityService } from './affinity.ts';
import { FailoverService } from './failover.service.ts';
import { ModelRoutingService } from './model-routing.service.ts';
import { RouterService } from './router.service.ts';
import { RoutingSettingsService } from './routing-settings.service.ts';

/** Candidate ordering and the failover loop; nothing here knows any single provider. */
@Module({
  imports: [ProvidersModule, ModelsModule],
  providers: [RoutingSettingsService, ModelRoutingService, RouterService, FailoverService, AffinityService],
  exports: [RouterService, FailoverService, RoutingSettingsService, ModelRoutingService, AffinityService],
})
export class RoutingModule {}
