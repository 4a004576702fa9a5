import { Module } from '@nestjs/common';
import { AppLifecycle } from './app-lifecycle.service.ts';

/**
 * The application's own life: requests in flight, refusing new ones once shutdown has begun, and
 * the grace period that drains them (SHUTDOWN_GRACE_SECONDS). Readiness and the /v1 responders
 * read it; it knows nothing of either.
 */
@Module({
  providers: [AppLifecycle],
  exports: [AppLifecycle],
})
export class LifecycleModule {}
