import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ApiAccess } from '#contracts';
import { AdminGuard } from '../auth/admin-auth.guard.ts';
import { ClientKeysService } from '../client-keys/client-keys.service.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { apiAccessMode } from '../openai-compat/api-key.guard.ts';
import { ApiAdminAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';

/**
 * Under /api/auth beside login for the console's sake, but about /v1: whether it answers only
 * this machine, everyone, or key holders. It needs the client keys and the /v1 guard's rule,
 * which sit above auth, hence its own controller here.
 */
@ApiTags(DOC_TAGS.auth)
@Controller('api/auth')
export class ApiAccessController {
  constructor(
    private readonly clientKeys: ClientKeysService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Lets the console say whether /v1 is open to this machine only, and how to open it. */
  @Get('api-access')
  @UseGuards(AdminGuard)
  @ApiAdminAuth()
  @ApiOperation({
    summary: '查询 /v1 的开放方式',
    description:
      '未设置 `API_KEY` 且没有客户端密钥时，`/v1` 默认只回应本机客户端（`local`），其他地址得到 403；设置 `ALLOW_OPEN_API=true` 后无需密钥对所有人开放（`open`）；有任何密钥后需要密钥（`key`）。',
  })
  @ApiJsonResponse('ApiAccess', '当前的开放方式。')
  @ApiErrors([401])
  apiAccess(): ApiAccess {
    return { mode: apiAccessMode(this.config, this.clientKeys.any()) };
  }
}
