import { Body, Controller, Get, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { IsString, MaxLength, MinLength } from 'class-validator';
import type { Request } from 'express';
import { AdminGuard } from './admin-auth.guard.ts';
import { AdminAuthService, type AdminSession } from './admin-auth.service.ts';

export class LoginDto {
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password!: string;
}

const bearer = (req: Request) => /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1] ?? '';

@Controller('api/auth')
export class AuthController {
  constructor(private readonly auth: AdminAuthService) {}

  @Post('login')
  @HttpCode(200)
  login(@Body() dto: LoginDto, @Req() req: Request): Promise<AdminSession> {
    return this.auth.login(dto.password, req.ip ?? 'unknown');
  }

  @Post('logout')
  @HttpCode(204)
  @UseGuards(AdminGuard)
  async logout(@Req() req: Request): Promise<void> {
    await this.auth.logout(bearer(req));
  }

  /** Lets the console check its token and learn when it expires. */
  @Get('session')
  @UseGuards(AdminGuard)
  async session(@Req() req: Request): Promise<{ expiresAt: number }> {
    return { expiresAt: (await this.auth.verify(bearer(req)))! };
  }
}
