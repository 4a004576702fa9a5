import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { AdminGuard } from '../admin/admin-auth.guard.ts';
import { ApiError } from '../common/api-error.ts';
import { ProviderRegistry, type ProviderStatus } from '../providers/provider-registry.service.ts';
import type { HealthCheckResult } from '../storage/storage.ts';
import { ProviderHealthService } from './provider-health.service.ts';
import type { ProviderCheck } from './provider-probe.ts';

export interface ProviderHealthView {
  name: string;
  /** Routing status: available, disabled, unconfigured or cooling-down. */
  status: ProviderStatus;
  reason: string | null;
  /** The last check's verdict; null before the first check. */
  healthy: boolean | null;
  lastCheck: ProviderCheck | null;
}

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
  async checkAll(): Promise<{ results: ProviderCheck[] }> {
    return { results: await this.checks.checkAll() };
  }

  /** Every provider's routing status next to its last check. */
  @Get('providers')
  providers(): { providers: ProviderHealthView[] } {
    return {
      providers: this.registry.all().map((p) => {
        const lastCheck = this.checks.lastCheck(p.name);
        return { name: p.name, ...p.status(), healthy: lastCheck ? lastCheck.ok : null, lastCheck };
      }),
    };
  }

  /** Stored checks of one provider, newest first (`?limit=`, default 50, at most 1000). */
  @Get('history/:provider')
  history(@Param('provider') provider: string, @Query('limit') limit?: string): Promise<{ provider: string; items: HealthCheckResult[] }> {
    return this.checks.history(provider, parseLimit(limit));
  }
}
