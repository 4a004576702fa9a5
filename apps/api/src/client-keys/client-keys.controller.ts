import { applyDecorators, Body, Controller, Delete, Get, Header, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateBy, ValidateIf } from 'class-validator';
import type {
  ClientKey,
  ClientKeyLimits,
  ClientKeyLimitsChange,
  ClientKeyList,
  CreateClientKeyRequest,
  CreatedClientKey,
  UpdateClientKeyRequest,
} from '#contracts';
import { AdminGuard } from '../auth/admin-auth.guard.ts';
import { ApiAdminAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import { ClientKeysService } from './client-keys.service.ts';
import { LIMIT_FIELDS, MAX_ALLOW_ENTRIES, MAX_CONCURRENCY_LIMIT, MAX_EXPIRES_AT, MAX_MODEL_PATTERN_CHARS, MAX_QUOTA, ipEntryProblem } from './key-limits.ts';

/** The highest limit accepted; above it, set no limit. */
export const MAX_RPM_LIMIT = 1_000_000;

/** An allowed-IP entry: an IPv4 or IPv6 address or CIDR. */
const IsIpOrCidr = () =>
  ValidateBy(
    {
      name: 'isIpOrCidr',
      validator: {
        validate: (v: unknown) => typeof v === 'string' && ipEntryProblem(v.trim()) === null,
        defaultMessage: () => 'each value in $property must be an IPv4 or IPv6 address or CIDR (10.0.0.0/8, 2001:db8::/32)',
      },
    },
    { each: true },
  );

/** A quota: a positive integer, or null / absent for none. */
const Quota = (description: string) =>
  applyDecorators(
    ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_QUOTA, nullable: true, description }),
    IsOptional(),
    IsInt(),
    Min(1),
    Max(MAX_QUOTA),
  );

/**
 * The rules of the limits a key may carry, shared by create and update: on create absent or null means none; on
 * update absent leaves a limit as it is and null (or [] for lists) removes it.
 */
const LIMIT_RULES: Record<keyof ClientKeyLimitsChange, PropertyDecorator[]> = {
  rpmLimit: [
    ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_RPM_LIMIT, nullable: true, description: '每分钟最多请求数；`null` 表示不限。' }),
    IsOptional(),
    IsInt(),
    Min(1),
    Max(MAX_RPM_LIMIT),
  ],
  requestsPerDay: [Quota('每天最多请求数（按 QUOTA_TIME_ZONE 的零点重置）；`null` 表示不限。')],
  requestsPerMonth: [Quota('每月最多请求数（按 QUOTA_TIME_ZONE 的每月 1 日零点重置）；`null` 表示不限。')],
  requestsTotal: [Quota('总请求数上限；`null` 表示不限。')],
  tokensPerDay: [Quota('每天最多 token 数（输入 + 输出，请求完成后计入，最后一个请求可能超出）；`null` 表示不限。')],
  tokensPerMonth: [Quota('每月最多 token 数；`null` 表示不限。')],
  tokensTotal: [Quota('总 token 数上限；`null` 表示不限。')],
  expiresAt: [
    ApiPropertyOptional({
      type: 'integer',
      minimum: 0,
      maximum: MAX_EXPIRES_AT,
      nullable: true,
      description: '过期时间（epoch 毫秒），到期后请求返回 401 `key_expired`；`null` 表示永不过期。',
    }),
    IsOptional(),
    IsInt(),
    Min(0),
    Max(MAX_EXPIRES_AT),
  ],
  allowedModels: [
    ApiPropertyOptional({
      type: [String],
      maxItems: MAX_ALLOW_ENTRIES,
      nullable: true,
      description: '允许的模型 id 或 `*` 通配（请求的 id 或别名指向的模型匹配其一即可）；`[]` 或 `null` 表示全部允许。',
    }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(MAX_ALLOW_ENTRIES),
    IsString({ each: true }),
    Matches(new RegExp(`^\\s*[\\x21-\\x7e]{1,${MAX_MODEL_PATTERN_CHARS}}\\s*$`), {
      each: true,
      message: `each value in $property must be 1 to ${MAX_MODEL_PATTERN_CHARS} printable characters without spaces`,
    }),
  ],
  allowedIps: [
    ApiPropertyOptional({
      type: [String],
      maxItems: MAX_ALLOW_ENTRIES,
      nullable: true,
      description: '允许的客户端 IP 或 CIDR（IPv4 / IPv6，遵循 TRUST_PROXY）；`[]` 或 `null` 表示不限。',
    }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(MAX_ALLOW_ENTRIES),
    IsString({ each: true }),
    IsIpOrCidr(),
  ],
  concurrencyLimit: [
    ApiPropertyOptional({
      type: 'integer',
      minimum: 1,
      maximum: MAX_CONCURRENCY_LIMIT,
      nullable: true,
      description: '同时处理的请求数上限；`null` 表示不限。',
    }),
    IsOptional(),
    IsInt(),
    Min(1),
    Max(MAX_CONCURRENCY_LIMIT),
  ],
};

/**
 * Puts the limit rules (validation and API document) on a DTO class: applied to each class rather
 * than inherited, since the compiled validator (common/compiled-validator.ts) does not follow
 * inheritance.
 */
function withLimitRules(cls: { prototype: object }): void {
  // Last first, as stacked decorators are applied.
  for (const [field, decorators] of Object.entries(LIMIT_RULES)) for (const decorate of [...decorators].reverse()) decorate(cls.prototype, field);
}

export class CreateClientKeyDto implements CreateClientKeyRequest {
  @ApiProperty({ description: '名字（如使用者或用途），最多 100 个字符，不能全是空白。', maxLength: 100, pattern: '\\S', example: '团队 A' })
  @IsString()
  @MaxLength(100)
  @Matches(/\S/, { message: '$property must not be empty' })
  name!: string;

  rpmLimit?: number | null;
  requestsPerDay?: number | null;
  requestsPerMonth?: number | null;
  requestsTotal?: number | null;
  tokensPerDay?: number | null;
  tokensPerMonth?: number | null;
  tokensTotal?: number | null;
  expiresAt?: number | null;
  allowedModels?: string[] | null;
  allowedIps?: string[] | null;
  concurrencyLimit?: number | null;
}
withLimitRules(CreateClientKeyDto);

export class UpdateClientKeyDto implements UpdateClientKeyRequest {
  /** Absent leaves the name; null is not a name. */
  @ApiPropertyOptional({ description: '新名字；不填则不变。', maxLength: 100, pattern: '\\S' })
  @ValidateIf((o: UpdateClientKeyDto) => o.name !== undefined)
  @IsString()
  @MaxLength(100)
  @Matches(/\S/, { message: '$property must not be empty' })
  name?: string;

  rpmLimit?: number | null;
  requestsPerDay?: number | null;
  requestsPerMonth?: number | null;
  requestsTotal?: number | null;
  tokensPerDay?: number | null;
  tokensPerMonth?: number | null;
  tokensTotal?: number | null;
  expiresAt?: number | null;
  allowedModels?: string[] | null;
  allowedIps?: string[] | null;
  concurrencyLimit?: number | null;
}
withLimitRules(UpdateClientKeyDto);

/** The limits given in a request, cleaned: lists trimmed and deduplicated, null lists as []; absent fields stay absent. */
export function givenLimits(dto: ClientKeyLimitsChange): Partial<ClientKeyLimits> {
  const out: Partial<Record<keyof ClientKeyLimits, unknown>> = {};
  for (const field of LIMIT_FIELDS) {
    const value = dto[field];
    if (value === undefined) continue;
    out[field] = field === 'allowedModels' || field === 'allowedIps' ? [...new Set(((value as string[] | null) ?? []).map((v) => v.trim()))] : value;
  }
  return out as Partial<ClientKeyLimits>;
}

/** Client API keys for /v1 (the console's "API 密钥" page). */
const CLIENT_KEY_ID = ApiParam({ name: 'id', description: '客户端密钥 id（`ck_…`）。', schema: { type: 'string' } });

@ApiTags(DOC_TAGS.clientKeys)
@ApiAdminAuth()
@Controller('api/keys')
@UseGuards(AdminGuard)
export class ClientKeysController {
  constructor(private readonly keys: ClientKeysService) {}

  @Get()
  @ApiOperation({
    summary: '列出客户端密钥',
    description: '所有客户端密钥（含已吊销的），新建的在前：掩码、限速、用量（请求数、token 数、最近使用时间；分批写入，可能晚几秒）。',
  })
  @ApiJsonResponse('ClientKeyList', '客户端密钥列表。')
  @ApiErrors([401])
  list(): Promise<ClientKeyList> {
    return this.keys.list();
  }

  /** The only answer that ever contains the secret. */
  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: '创建客户端密钥',
    description: '创建一个访问 `/v1` 的密钥（`sk-g4f-…`）。**完整密钥只在这个响应中出现一次**，之后只保存其哈希。创建第一个密钥后，`/v1` 开始要求密钥。',
  })
  @ApiJsonResponse('CreatedClientKey', '新密钥（含完整的 `secret`）。', 201)
  @ApiErrors([400, 401])
  @Header('cache-control', 'no-store')
  create(@Body() dto: CreateClientKeyDto): Promise<CreatedClientKey> {
    return this.keys.create(dto.name.trim(), givenLimits(dto));
  }

  @Get(':id')
  @ApiOperation({ summary: '查询客户端密钥', description: '一个客户端密钥的信息与用量（不含明文）。' })
  @CLIENT_KEY_ID
  @ApiJsonResponse('ClientKey', '客户端密钥。')
  @ApiErrors([401, 404], { 404: '密钥不存在（`code: client_key_not_found`）。' })
  get(@Param('id') id: string): Promise<ClientKey> {
    return this.keys.get(id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: '修改客户端密钥',
    description: '改名和 / 或修改限额（限速、配额、过期时间、允许的模型与 IP、并发）；未给出的字段保持不变，`null`（列表为 `[]`）取消该限制。',
  })
  @CLIENT_KEY_ID
  @ApiJsonResponse('ClientKey', '修改后的客户端密钥。')
  @ApiErrors([400, 401, 404], { 404: '密钥不存在。' })
  update(@Param('id') id: string, @Body() dto: UpdateClientKeyDto): Promise<ClientKey> {
    return this.keys.update(id, { ...givenLimits(dto), name: dto.name?.trim() });
  }

  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({ summary: '吊销客户端密钥', description: '永久吊销（可重复调用）。记录保留，日志与统计仍能显示它。' })
  @CLIENT_KEY_ID
  @ApiJsonResponse('ClientKey', '吊销后的客户端密钥（`revoked: true`）。')
  @ApiErrors([401, 404], { 404: '密钥不存在。' })
  revoke(@Param('id') id: string): Promise<ClientKey> {
    return this.keys.revoke(id);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: '吊销客户端密钥（POST 形式）', description: '与 `DELETE /api/keys/{id}` 相同，供不便发送 DELETE 的客户端使用。' })
  @CLIENT_KEY_ID
  @ApiJsonResponse('ClientKey', '吊销后的客户端密钥（`revoked: true`）。')
  @ApiErrors([401, 404], { 404: '密钥不存在。' })
  revokeByPost(@Param('id') id: string): Promise<ClientKey> {
    return this.keys.revoke(id);
  }
}
