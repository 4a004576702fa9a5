import { Inject, Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { consoleDirCandidates, consoleStatic } from './console-static.ts';

/**
 * The admin console (apps/admin, built into dist/admin/browser, or CONSOLE_DIR) at `/`, with an
 * SPA fallback that never answers `/v1`, `/api`, `/docs`, `/health` or `/metrics`.
 */
@Module({})
export class ConsoleModule implements NestModule {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  configure(consumer: MiddlewareConsumer): void {
    const dirs = this.config.consoleDir ? [this.config.consoleDir] : consoleDirCandidates();
    consumer.apply(consoleStatic(dirs)).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
