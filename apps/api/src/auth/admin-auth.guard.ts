import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { ApiError } from '../common/api-error.ts';
import { AdminAuthService } from './admin-auth.service.ts';

/** Every /api endpoint but login requires a live admin session token (Authorization: Bearer). */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly auth: AdminAuthService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m)
      throw new ApiError(
        401,
        'Log in first: this endpoint needs an admin session token (Authorization: Bearer …).',
        'authentication_error',
        'admin_auth_required',
      );
    if ((await this.auth.verify(m[1]!)) === undefined) {
      throw new ApiError(401, 'The admin session has expired or is invalid; log in again.', 'authentication_error', 'admin_session_expired');
    }
    return true;
  }
}
