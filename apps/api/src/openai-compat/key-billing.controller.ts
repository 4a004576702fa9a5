import { Controller, Get, Query, Req, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { BillingSubscription, BillingUsage, ClientKeyInfo, ClientKeyQuotaUsage } from '#contracts';
import { ClientKeysService } from '../client-keys/client-keys.service.ts';
import { ApiError } from '../common/api-error.ts';
import { ApiClientKeyAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import { ApiKeyGuard, type ClientKeyRequest } from './api-key.guard.ts';

/** What one-api reports for a token without a quota: a limit no client will show as reached. */
export const UNLIMITED_BILLING_AMOUNT = 100_000_000;

/** The token quota the billing endpoints report, the longest period first (a balance is what is left over the longest horizon). */
const BILLED_QUOTAS = ['tokensTotal', 'tokensPerMonth', 'tokensPerDay'] as const;

/** The quota the billing endpoints speak of: the first token quota set, else the total with no limit. */
function billedQuota(usage: ClientKeyQuotaUsage[]): ClientKeyQuotaUsage {
  const byName = new Map(usage.map((u) => [u.quota, u]));
  return BILLED_QUOTAS.map((name) => byName.get(name)!).find((u) => u.limit !== null) ?? byName.get('tokensTotal')!;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `start_date` / `end_date` as OpenAI's legacy endpoint takes them (accepted, not used: see below). */
function checkDate(raw: string | undefined, param: string): void {
  if (raw === undefined || raw === '') return;
  if (!DATE.test(raw) || Number.isNaN(Date.parse(raw))) {
    throw ApiError.badRequest(`Invalid '${param}': expected a date like 2026-01-31, got '${raw.slice(0, 40)}'.`, param, 'invalid_value');
  }
}

/**
 * What the holder of a client key can read with it: `GET /v1/key`, and OpenAI's legacy billing
 * endpoints in the shapes one-api serves. Amounts are tokens of one token quota (see billedQuota):
 * hard_limit_usd is its limit, total_usage its used tokens × 100, as one-api does with its
 * currency display off. GETs are not metered (ApiKeyGuard), so a key over quota can still look.
 */
@ApiTags(DOC_TAGS.clientKeys)
@ApiClientKeyAuth()
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class KeyBillingController {
  constructor(private readonly keys: ClientKeysService) {}

  @Get('key')
  @ApiOperation({
    summary: '查询自己的客户端密钥',
    description: '用客户端密钥调用：返回该密钥的名字、限额（配额、过期时间、允许的模型与 IP、并发）以及每个配额的已用量、剩余量和重置时间。',
  })
  @ApiJsonResponse('ClientKeyInfo', '密钥信息。')
  @ApiErrors([401, 403, 404], { 404: '请求没有使用客户端密钥（例如用的是 `API_KEY`）：`code: client_key_required`。' })
  info(@Req() req: ClientKeyRequest): Promise<ClientKeyInfo> {
    return this.keys.info(this.keyOf(req));
  }

  @Get('dashboard/billing/subscription')
  @ApiOperation({
    summary: '订阅信息（one-api 兼容）',
    description:
      'OpenAI 旧版账单接口，形状与 one-api 相同，供 ChatBox、NextChat 显示余额。金额单位是 **token**：`hard_limit_usd` 是密钥的 token 配额（依次取总量、每月、每日中第一个设置了的），未设置 token 配额时为 100000000；`access_until` 是过期时间（epoch 秒，0 表示不过期）。',
  })
  @ApiJsonResponse('BillingSubscription', '订阅信息。')
  @ApiErrors([401, 403, 404])
  async subscription(@Req() req: ClientKeyRequest): Promise<BillingSubscription> {
    const info = await this.keys.info(this.keyOf(req));
    const quota = billedQuota(info.quotaUsage);
    const amount = quota.limit ?? UNLIMITED_BILLING_AMOUNT;
    return {
      object: 'billing_subscription',
      has_payment_method: true,
      soft_limit_usd: amount,
      hard_limit_usd: amount,
      system_hard_limit_usd: amount,
      access_until: info.expiresAt === null ? 0 : Math.floor(info.expiresAt / 1000),
    };
  }

  @Get('dashboard/billing/usage')
  @ApiOperation({
    summary: '用量（one-api 兼容）',
    description:
      '形状与 one-api 相同：`total_usage` 是与订阅信息同一个 token 配额在当前周期内已用的 token 数 × 100（即把 token 当作“美分”）。`start_date`、`end_date` 只检查格式，不影响结果（与 one-api 相同）。',
  })
  @ApiQuery({ name: 'start_date', required: false, description: 'YYYY-MM-DD（只检查格式）。' })
  @ApiQuery({ name: 'end_date', required: false, description: 'YYYY-MM-DD（只检查格式）。' })
  @ApiJsonResponse('BillingUsage', '用量。')
  @ApiErrors([400, 401, 403, 404])
  async usage(@Req() req: ClientKeyRequest, @Query('start_date') start?: string, @Query('end_date') end?: string): Promise<BillingUsage> {
    checkDate(start, 'start_date');
    checkDate(end, 'end_date');
    const info = await this.keys.info(this.keyOf(req));
    return { object: 'list', total_usage: billedQuota(info.quotaUsage).used * 100 };
  }

  private keyOf(req: ClientKeyRequest): string {
    if (req.clientKeyId) return req.clientKeyId;
    throw new ApiError(
      404,
      'This endpoint describes the client key a request is made with; this request was not made with a client key (API_KEY and open access have no quotas).',
      'invalid_request_error',
      'client_key_required',
    );
  }
}
