import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module.ts';
import { MetricsController } from './metrics.controller.ts';
import { MetricsService } from './metrics.service.ts';

/** `GET /metrics` in Prometheus' text format, from the app's own prom-client registry. */
@Module({
  imports: [ProvidersModule],
  controllers: [MetricsController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}
