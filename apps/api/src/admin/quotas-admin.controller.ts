import { Body, Controller, Delete, Get, Param, Put, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../auth/admin-auth.guard.ts';
import { ApiError } from '../common/api-error.ts';
import { QuotaSpecError } from '../common/quota-spec.ts';
import { ApiAdminAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import { ProviderSettingsService } from '../providers/provider-settings.service.ts';
import { QuotaLedger } from '../providers/quota-ledger.ts';
import type { ProviderQuotaList } from '#contracts';

const PROVIDER = ApiParam({ name: 'name', description: '提供商名字或 id（不区分大小写）。', schema: { type: 'string' } });
const KEY = ApiParam({ name: 'id', description: '密钥 id（`GET /api/providers/{name}` 的 `keys[].id`）。', schema: { type: 'string' } });
const LIMITS_BODY = ApiBody({
  description:
    '限额：`"<用量>/<窗口>": 数量`，用量为 `requests`、`tokens` 或 `neurons`，窗口为 `minute`、`hour`、`day`、`month` 或固定秒数（如 `30s`）；' +
    '`null` 表示该项未知（去掉文档中的值）。另可设 `timeZone`（IANA 时区）、`resetHour`（0–23，日 / 月窗口在该时区的几点重置）与 `creditWindow`（`day`、`month` 或 `null`：402 / 免费额度用完时密钥休息到哪个窗口重置）。',
  schema: {
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string' }, { type: 'null' }] },
    example: { 'requests/day': 1000, 'tokens/minute': 60000, timeZone: 'UTC', resetHour: 0 },
  },
});

/** The providers' free-tier limits and what each key used (admin session required). */
@ApiTags(DOC_TAGS.providers)
@ApiAdminAuth()
@Controller('api/quotas')
@UseGuards(AdminGuard)
export class QuotasAdminController {
  constructor(
    private readonly ledger: QuotaLedger,
    private readonly settings: ProviderSettingsService,
  ) {}

  @Get()
  @ApiOperation({
    summary: '免费额度账本',
    description:
      '每个提供商生效的限额（各提供商文档中的免费额度，再叠加 `QUOTA_LIMITS` 与管理台的设置；没有文档依据的限额不出现，即“未知”），' +
      '各密钥与全部密钥合计在当前窗口的已用、剩余与重置时间，上游速率限制响应头最近说的剩余量，以及休息中的密钥和原因。',
  })
  @ApiJsonResponse('ProviderQuotaList', '各提供商的限额与用量。')
  @ApiErrors([401])
  list(): ProviderQuotaList {
    return { providers: this.ledger.views() };
  }

  @Put(':name')
  @ApiOperation({
    summary: '设置提供商的限额',
    description: '覆盖这个提供商每个密钥的限额（整体替换管理台之前的设置），立即生效并保存；集群模式下所有副本都会生效。',
  })
  @PROVIDER
  @LIMITS_BODY
  @ApiJsonResponse('ProviderQuotaList', '设置后的限额与用量。')
  @ApiErrors([400, 401, 404], { 404: '提供商不存在。' })
  setProvider(@Param('name') name: string, @Body() body: unknown): Promise<ProviderQuotaList> {
    return this.set(name, undefined, body);
  }

  @Delete(':name')
  @ApiOperation({ summary: '清除提供商的限额设置', description: '去掉管理台对这个提供商的限额设置，恢复为文档与 `QUOTA_LIMITS` 的值。' })
  @PROVIDER
  @ApiJsonResponse('ProviderQuotaList', '清除后的限额与用量。')
  @ApiErrors([401, 404], { 404: '提供商不存在。' })
  clearProvider(@Param('name') name: string): Promise<ProviderQuotaList> {
    return this.set(name, undefined, null);
  }

  @Put(':name/keys/:id')
  @ApiOperation({ summary: '设置单个密钥的限额', description: '只覆盖这一个密钥的限额（叠加在提供商的限额之上），立即生效并保存。' })
  @PROVIDER
  @KEY
  @LIMITS_BODY
  @ApiJsonResponse('ProviderQuotaList', '设置后的限额与用量。')
  @ApiErrors([400, 401, 404], { 404: '提供商或密钥不存在。' })
  setKey(@Param('name') name: string, @Param('id') id: string, @Body() body: unknown): Promise<ProviderQuotaList> {
    return this.set(name, id, body);
  }

  @Delete(':name/keys/:id')
  @ApiOperation({ summary: '清除单个密钥的限额设置', description: '去掉管理台对这个密钥的限额设置，恢复为提供商的限额。' })
  @PROVIDER
  @KEY
  @ApiJsonResponse('ProviderQuotaList', '清除后的限额与用量。')
  @ApiErrors([401, 404], { 404: '提供商或密钥不存在。' })
  clearKey(@Param('name') name: string, @Param('id') id: string): Promise<ProviderQuotaList> {
    return this.set(name, id, null);
  }

  private async set(name: string, keyId: string | undefined, body: unknown): Promise<ProviderQuotaList> {
    const provider = this.settings.provider(name);
    if (keyId !== undefined && !provider.keys.get(keyId)) {
      throw new ApiError(404, `Provider \`${provider.name}\` has no key \`${keyId.slice(0, 64)}\`.`, 'not_found_error', 'unknown_key', 'id');
    }
    try {
      await this.ledger.setOverride(provider, keyId, body);
    } catch (err) {
      if (err instanceof QuotaSpecError) throw ApiError.badRequest(err.message, 'body', 'invalid_value');
      throw err;
    }
    return { providers: this.ledger.views() };
  }
}
