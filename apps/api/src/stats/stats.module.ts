import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.ts';
import { StatsRecorder } from './stats-recorder.service.ts';
import { StatsRetention } from './stats-retention.service.ts';
import { StatsController } from './stats.controller.ts';
import { StatsService } from './stats.service.ts';

/**
 * Request log and statistics: StatsRecorder buffers PoolEvents and writes them in batches,
 * StatsService reads them back (live), StatsRetention purges old data daily.
 */
@Module({
  imports: [AuthModule],
  controllers: [StatsController],
  providers: [StatsRecorder, StatsService, StatsRetention],
  exports: [StatsService],
})
export class StatsModule {}
