import { Module } from '@nestjs/common';
import type { RedisConnection } from '../storage/redis/redis-connection.ts';
import { REDIS_CONNECTION } from '../storage/storage.ts';
import { AdminGuard } from './admin-auth.guard.ts';
import { AdminAuthService } from './admin-auth.service.ts';
import { AuthController } from './auth.controller.ts';
import { InMemoryLoginThrottle, LOGIN_THROTTLE, type LoginThrottle } from './login-throttle.ts';
import { RedisLoginThrottle } from './redis-login-throttle.ts';

/**
 * Admin sessions, their login endpoints and the guard on every /api endpoint. Each feature module that has admin
 * endpoints imports this module (it is not global), so its dependence on auth is written down.
 */
@Module({
  controllers: [AuthController],
  providers: [
    AdminAuthService,
    AdminGuard,
    {
      provide: LOGIN_THROTTLE,
      // Cluster mode counts login attempts in Redis, so the throttle holds across replicas.
      useFactory: (redis: RedisConnection | null): LoginThrottle => (redis ? new RedisLoginThrottle(redis) : new InMemoryLoginThrottle()),
      inject: [REDIS_CONNECTION],
    },
  ],
  exports: [AdminAuthService, AdminGuard],
})
export class AuthModule {}
