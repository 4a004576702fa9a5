import { Global, Module } from '@nestjs/common';
import { AdminGuard } from './admin-auth.guard.ts';
import { AdminAuthService } from './admin-auth.service.ts';
import { AuthController } from './auth.controller.ts';

/** Admin auth: global so every feature module can guard its /api endpoints with AdminGuard. */
@Global()
@Module({
  controllers: [AuthController],
  providers: [AdminAuthService, AdminGuard],
  exports: [AdminAuthService, AdminGuard],
})
export class AdminModule {}
