import { Body, Controller, Get, Put, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import type { CacheSettings, SetCacheRequest } from '#contracts';
import { AdminGuard } from '../auth/admin-auth.guard.ts';
import { ApiAdminAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import { ResponseCacheService } from './response-cache.service.ts';

/** PUT /api/cache. */
export class SetCacheDto implements SetCacheRequest {
  @ApiPropertyOptional({ type: Boolean, nullable: true, description: '开启或关闭响应缓存；`null` 恢复为 `RESPONSE_CACHE`；不传则不变。' })
  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsBoolean()
  enabled?: boolean | null;

  @ApiPropertyOptional({ type: [String], maxItems: 200, description: '无论温度都缓存的模型 id（在 `RESPONSE_CACHE_MODELS` 之外），整体替换；不传则不变。' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  models?: string[];
}

/** The response cache, switched and watched from the console. */
@ApiTags(DOC_TAGS.providers)
@ApiAdminAuth()
@Controller('api/cache')
@UseGuards(AdminGuard)
export class CacheController {
  constructor(private readonly cache: ResponseCacheService) {}

  @Get()
  @ApiOperation({
    summary: '响应缓存',
    description:
      '响应缓存是否开启及其来源（`console` 或 `config`）、有效期与容量上限、强制缓存的模型、当前条目数与字节数，以及缓存命中省下的请求数与 token 数。',
  })
  @ApiJsonResponse('CacheSettings', '响应缓存的设置与统计。')
  @ApiErrors([401])
  get(): Promise<CacheSettings> {
    return this.cache.view();
  }

  @Put()
  @ApiOperation({
    summary: '设置响应缓存',
    description:
      '保存并立即使用（保存在存储中，重启后仍有效，集群模式下所有副本共享）：`enabled` 开关（`null` 恢复为 `RESPONSE_CACHE`），`models` 强制缓存的模型。',
  })
  @ApiJsonResponse('CacheSettings', '保存后的响应缓存设置。')
  @ApiErrors([400, 401], { 400: '字段无效。' })
  set(@Body() dto: SetCacheDto): Promise<CacheSettings> {
    return this.cache.set(dto);
  }
}
