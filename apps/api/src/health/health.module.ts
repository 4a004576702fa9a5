import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AuthModule } from '../auth/auth.module.ts';
import { LifecycleModule } from '../lifecycle/lifecycle.module.ts';
import { ModelsModule } from '../models/models.module.ts';
import { ProvidersModule } from '../providers/providers.module.ts';
import { HealthAdminController } from './health-admin.controller.ts';
import { HealthController } from './health.controller.ts';
import { ProviderHealthService } from './provider-health.service.ts';

/**
 * `/health`, `/health/live`, `/health/ready` (public) and the provider health checks:
 * scheduled every HEALTH_CHECK_INTERVAL, on demand through ProviderHealthService.check()
 * and `/api/health/*` (admin).
 */
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'pretty' }), ProvidersModule, ModelsModule, AuthModule, LifecycleModule],
  controllers: [HealthController, HealthAdminController],
  providers: [ProviderHealthService],
  exports: [ProviderHealthService],
})
export class HealthModule {}
