import { Module } from '@nestjs/common';
import { AdminGuard } from './admin-auth.guard.ts';
import { AdminAuthService } from './admin-auth.service.ts';
import { AuthController } from './auth.controller.ts';

/**
 * Admin sessions, their login endpoints and the guard on every /api endpoint. Each feature module that has admin
 * endpoints imports this module (it is not global), so its dependence on auth is written down.
 */
@Module({
  controllers: [AuthController],
  providers: [AdminAuthService, AdminGuard],
  exports: [AdminAuthService, AdminGuard],
})
export class AuthModule {}
