import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EXTRA_SAMPLING_PARAMS } from '#contracts';
import type { AddProviderKeyRequest, ExtraSamplingParam, UpdateProviderRequest, UpstreamRequest, UpstreamTestRequest, UpstreamTrialRequest } from '#contracts';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MaxLength,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';

const HTTP_URL = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

/** How an http(s) URL field appears in the API document. */
const URL_DOC = { type: String, format: 'uri', pattern: '^https?://' } as const;

/** An optional API key sent with a change of address (keys are bound to the host they were given for). */
const OptionalKey = (description: string) =>
  applyDecorators(ApiPropertyOptional({ description, minLength: 1, maxLength: 4096 }), IsOptional(), IsString(), IsNotEmpty(), MaxLength(4096));

/** PATCH /api/providers/{name}: omitted fields stay, null clears an override back to the env value. */
export class UpdateProviderDto implements UpdateProviderRequest {
  @ApiPropertyOptional({ description: '启用（true）或停用（false）。' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    ...URL_DOC,
    nullable: true,
    description: '上游地址（http 或 https）；`null` 恢复为环境变量或默认地址。',
    example: 'http://127.0.0.1:8000/v1',
  })
  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsUrl(HTTP_URL)
  baseUrl?: string | null;

  @ApiPropertyOptional({
    ...URL_DOC,
    nullable: true,
    description: '访问这个提供商用的 HTTP 代理；`null` 恢复为环境变量的设置。',
    example: 'http://127.0.0.1:7890',
  })
  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsUrl(HTTP_URL)
  proxy?: string | null;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, nullable: true, description: '优先级：数字越小越先尝试；`null` 清除设置。' })
  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsInt()
  @Min(0)
  priority?: number | null;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 100,
    nullable: true,
    description: '权重（路由策略为“按健康度加权随机”时）：被先尝试的机会与“权重 × 健康分”成正比；0 表示只在别的都不可用时才用；`null` 恢复为 1。',
  })
  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsInt()
  @Min(0)
  @Max(100)
  weight?: number | null;

  /** Provider-specific settings, e.g. Cloudflare's {"accountId": "…"}. */
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: '提供商专有设置（值都是字符串），与已有设置合并，如 Cloudflare 的 `{"accountId": "…"}`。',
  })
  @IsOptional()
  @IsObject()
  extra?: Record<string, string>;

  @OptionalKey(
    '新上游地址所在主机的 API 密钥（加密保存，只发给那个主机）。把 `baseUrl` 改到另一个主机（协议、主机名或端口不同）且这个提供商有密钥时必填：原来的密钥（包括环境变量中的）不会发给新主机。',
  )
  key?: string;
}

export class AddKeyDto implements AddProviderKeyRequest {
  @ApiProperty({ description: '上游 API 密钥（加密保存；任何接口都不会再返回明文）。', minLength: 1, maxLength: 4096 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(4096)
  key!: string;

  @ApiPropertyOptional({ description: '备注（如“账号2”），显示在密钥列表中。', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  label?: string;
}

export class UpstreamDto implements UpstreamRequest {
  @ApiProperty({
    description: '上游名字：字母开头，由字母、数字和 `_.-` 组成，最多 40 个字符；不能与内置提供商重名。',
    pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,39}$',
    example: 'ollama',
  })
  @IsString()
  @Matches(/^[A-Za-z][A-Za-z0-9_.-]{0,39}$/, { message: '$property must be letters, digits, _ . - (max 40), starting with a letter' })
  name!: string;

  @ApiProperty({ ...URL_DOC, description: 'OpenAI 兼容接口的地址（http 或 https，通常以 `/v1` 结尾）。', example: 'http://127.0.0.1:11434/v1' })
  @IsUrl(HTTP_URL)
  baseUrl!: string;

  @ApiPropertyOptional({ description: '是否启用，默认 true。', default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ ...URL_DOC, nullable: true, description: '访问这个上游用的 HTTP 代理。' })
  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsUrl(HTTP_URL)
  proxy?: string | null;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, nullable: true, description: '优先级：数字越小越先尝试。' })
  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsInt()
  @Min(0)
  priority?: number | null;

  @ApiPropertyOptional({ description: '模型的出品方，作为 `/v1/models` 中的 `owned_by`。', maxLength: 60 })
  @IsOptional()
  @IsString()
  @MaxLength(60)
  ownedBy?: string;

  /** Gateway model id → upstream model id. */
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', minLength: 1 },
    minProperties: 1,
    description: '网关模型 id → 上游模型 id（都不能为空）。',
    example: { 'qwen2.5-7b': 'qwen2.5:7b' },
  })
  @IsObject()
  models!: Record<string, string>;

  /** Checked against EXTRA_SAMPLING_PARAMS by the controller, whose 400 names the bad value. */
  @ApiPropertyOptional({
    type: [String],
    enum: EXTRA_SAMPLING_PARAMS,
    maxItems: EXTRA_SAMPLING_PARAMS.length,
    description:
      '上游接受的 OpenAI 之外的采样参数（vLLM、Ollama、llama.cpp 等接受 `top_k`、`min_p` 等）；请求中的这些字段只发给列出它们的上游，其余不发送。默认不发送任何一个。',
    example: ['top_k', 'min_p'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(EXTRA_SAMPLING_PARAMS.length)
  samplingParams?: ExtraSamplingParam[];

  @OptionalKey('上游的 API 密钥（加密保存，只发给 `baseUrl` 所在的主机）。修改时把 `baseUrl` 改到另一个主机且上游有密钥时必填，原来的密钥不会发给新主机。')
  key?: string;
}

/** POST /api/upstreams/models: an upstream as the form has it, saved or not. */
export class UpstreamTrialDto implements UpstreamTrialRequest {
  @ApiPropertyOptional({ description: '正在编辑的已保存上游的名字：它在这个主机上的密钥也会用来尝试（只在 `baseUrl` 仍是密钥所属的主机时）。', maxLength: 40 })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  name?: string;

  @ApiProperty({
    ...URL_DOC,
    description: 'OpenAI 兼容接口的地址（http 或 https，通常以 `/v1` 结尾）；其中显示为 `****` 的账号密码代表已保存的。',
    example: 'http://127.0.0.1:11434/v1',
  })
  @IsUrl(HTTP_URL)
  @MaxLength(2000)
  baseUrl!: string;

  @ApiPropertyOptional({ ...URL_DOC, nullable: true, description: '访问这个上游用的 HTTP 代理。' })
  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsUrl(HTTP_URL)
  @MaxLength(2000)
  proxy?: string | null;

  @OptionalKey('在表单中输入、尚未保存的 API 密钥（只用于这一次请求，不保存，不会出现在回答中）。')
  key?: string;
}

/** POST /api/upstreams/test: the same, and the upstream model the one-token chat asks. */
export class UpstreamTestDto extends UpstreamTrialDto implements UpstreamTestRequest {
  @ApiProperty({ description: '一次只生成 1 个 token 的对话所用的上游模型 id。', minLength: 1, maxLength: 200, example: 'llama3.2' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  model!: string;
}
