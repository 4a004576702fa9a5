import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../auth/admin-auth.guard.ts';
import { ApiError } from '../common/api-error.ts';
import { ApiAdminAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import type { ProviderHealthView } from '../openapi/api-types.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';
import type { HealthCheckResult } from '../storage/storage.ts';
import { ProviderHealthService } from './provider-health.service.ts';
import type { ProviderCheckAll } from '#contracts';

export type { ProviderHealthView };

const DEFAULT_HISTORY = 50;
const MAX_HISTORY = 1000;

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_HISTORY;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_HISTORY) {
    throw ApiError.badRequest(`limit must be an integer from 1 to ${MAX_HISTORY}, got "${raw}"`, 'limit', 'invalid_value');
  }
  return n;
}

/** Provider health checks for the console (admin session required). */
@ApiTags(DOC_TAGS.health)
@ApiAdminAuth()
@Controller('api/health')
@UseGuards(AdminGuard)
export class HealthAdminController {
  constructor(
    private readonly checks: ProviderHealthService,
    private readonly registry: ProviderRegistry,
  ) {}

  /** Checks every enabled, configured provider now and answers with the results. */
  @Post('check')
  @HttpCode(200)
  @ApiOperation({
    summary: '立即检查所有提供商',
    description: '马上探测每个已启用且已配置的提供商，返回各自的结果（结果也会保存，与定时检查一起出现在历史中）。',
  })
  @ApiJsonResponse('ProviderCheckAll', '每个提供商的检查结果。')
  @ApiErrors([401])
  async checkAll(): Promise<ProviderCheckAll> {
    return { results: await this.checks.checkAll() };
  }

  /** Every provider's routing status next to its last check. */
  @Get('providers')
  @ApiOperation({
    summary: '提供商健康概览',
    description:
      '每个提供商的路由状态（可用、停用、未配置、冷却中）及原因、最近一次健康检查，以及综合实时请求与检查得出的状况 `condition`（正常 / 降级 / 异常 / 未知）。',
  })
  @ApiJsonResponse('ProviderHealthList', '健康概览。')
  @ApiErrors([401])
  providers(): { providers: ProviderHealthView[] } {
    return {
      providers: this.registry.all().map((p) => {
        const lastCheck = this.checks.lastCheck(p.name);
        return { name: p.name, ...p.status(), healthy: lastCheck ? lastCheck.ok : null, lastCheck, condition: this.checks.condition(p.name)! };
      }),
    };
  }

  /** Stored checks of one provider, newest first (`?limit=`, default 50, at most 1000). */
  @Get('history/:provider')
  @ApiOperation({ summary: '提供商健康检查历史', description: '一个提供商保存的健康检查记录，新的在前。' })
  @ApiParam({ name: 'provider', description: '提供商名字（不区分大小写）。', schema: { type: 'string' } })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: `最多返回多少条（1～${MAX_HISTORY}）。`,
    schema: { type: 'integer', minimum: 1, maximum: MAX_HISTORY, default: DEFAULT_HISTORY },
  })
  @ApiJsonResponse('ProviderHealthHistory', '检查记录。')
  @ApiErrors([400, 401, 404], { 404: '提供商不存在。' })
  history(@Param('provider') provider: string, @Query('limit') limit?: string): Promise<{ provider: string; items: HealthCheckResult[] }> {
    return this.checks.history(provider, parseLimit(limit));
  }
}
