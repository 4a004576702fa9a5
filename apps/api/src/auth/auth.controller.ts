import { Body, Controller, Get, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import type { Request } from 'express';
import { ApiAdminAuth, ApiEmptyResponse, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import { AdminGuard } from './admin-auth.guard.ts';
import { AdminAuthService, type AdminSession } from './admin-auth.service.ts';

export class LoginDto {
  @ApiProperty({ description: '管理员密码：环境变量 `ADMIN_PASSWORD`，未设置时为首次启动时生成并在日志中打印一次的密码。', minLength: 1, maxLength: 1024 })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password!: string;
}

const bearer = (req: Request) => /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1] ?? '';

@ApiTags(DOC_TAGS.auth)
/** Admin login, logout and session: the console's way in. */
@Controller('api/auth')
export class AuthController {
  constructor(private readonly auth: AdminAuthService) {}

  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    summary: '管理员登录',
    description:
      '用管理员密码换取会话令牌（`token`），之后以 `Authorization: Bearer <token>` 调用其余 `/api` 接口。令牌在 `expiresAt`（毫秒时间戳）过期。同一客户端地址（设置 `TRUST_PROXY` 后取代理转发的地址）1 分钟内最多尝试 10 次，之后返回 429；连续失败后每次尝试都会逐渐延迟（最长 3 秒），但不会锁死其他地址的管理员。不需要认证。',
  })
  @ApiJsonResponse('AdminSession', '登录成功。')
  @ApiErrors([400, 401, 429], {
    401: '密码错误（`code: invalid_admin_password`）。',
    429: '该地址尝试次数过多（`code: too_many_logins`），按 `Retry-After` 等待。',
  })
  login(@Body() dto: LoginDto, @Req() req: Request): Promise<AdminSession> {
    // req.ip: the socket's address, or with TRUST_PROXY the client's as the trusted proxies report it.
    return this.auth.login(dto.password, req.ip ?? 'unknown');
  }

  @Post('logout')
  @HttpCode(204)
  @UseGuards(AdminGuard)
  @ApiAdminAuth()
  @ApiOperation({ summary: '退出登录', description: '使当前会话令牌立即失效。' })
  @ApiEmptyResponse('已退出。')
  @ApiErrors([401])
  async logout(@Req() req: Request): Promise<void> {
    await this.auth.logout(bearer(req));
  }

  /** Lets the console check its token and learn when it expires. */
  @Get('session')
  @UseGuards(AdminGuard)
  @ApiAdminAuth()
  @ApiOperation({ summary: '查询当前会话', description: '检查令牌是否仍然有效，以及何时过期（管理台据此提示重新登录）。' })
  @ApiJsonResponse('AdminSessionInfo', '令牌有效。')
  @ApiErrors([401])
  async session(@Req() req: Request): Promise<{ expiresAt: number }> {
    return { expiresAt: (await this.auth.verify(bearer(req)))! };
  }
}
