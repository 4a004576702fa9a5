import { Body, Controller, Delete, Get, Header, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import type { ClientKey, ClientKeyList, CreateClientKeyRequest, CreatedClientKey, UpdateClientKeyRequest } from '#contracts';
import { AdminGuard } from '../auth/admin-auth.guard.ts';
import { ApiAdminAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import { ClientKeysService } from './client-keys.service.ts';

/** The highest limit accepted; above it, set no limit. */
export const MAX_RPM_LIMIT = 1_000_000;

export class CreateClientKeyDto implements CreateClientKeyRequest {
  @ApiProperty({ description: '名字（如使用者或用途），最多 100 个字符，不能全是空白。', maxLength: 100, pattern: '\\S', example: '团队 A' })
  @IsString()
  @MaxLength(100)
  @Matches(/\S/, { message: '$property must not be empty' })
  name!: string;

  /** null or absent: no limit. */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_RPM_LIMIT, nullable: true, description: '每分钟最多请求数；`null` 或不填表示不限。' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_RPM_LIMIT)
  rpmLimit?: number | null;
}

export class UpdateClientKeyDto implements UpdateClientKeyRequest {
  /** Absent leaves the name; null is not a name. */
  @ApiPropertyOptional({ description: '新名字；不填则不变。', maxLength: 100, pattern: '\\S' })
  @ValidateIf((o: UpdateClientKeyDto) => o.name !== undefined)
  @IsString()
  @MaxLength(100)
  @Matches(/\S/, { message: '$property must not be empty' })
  name?: string;

  /** Absent leaves the limit; null removes it. */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_RPM_LIMIT, nullable: true, description: '每分钟最多请求数；`null` 取消限速，不填则不变。' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_RPM_LIMIT)
  rpmLimit?: number | null;
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
    return this.keys.create(dto.name.trim(), dto.rpmLimit ?? null);
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
  @ApiOperation({ summary: '修改客户端密钥', description: '改名和 / 或修改限速；未给出的字段保持不变。' })
  @CLIENT_KEY_ID
  @ApiJsonResponse('ClientKey', '修改后的客户端密钥。')
  @ApiErrors([400, 401, 404], { 404: '密钥不存在。' })
  update(@Param('id') id: string, @Body() dto: UpdateClientKeyDto): Promise<ClientKey> {
    return this.keys.update(id, { name: dto.name?.trim(), rpmLimit: dto.rpmLimit });
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
