import { IsBoolean, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, IsUrl, Matches, MaxLength, Min, ValidateIf } from 'class-validator';

const HTTP_URL = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

/** PATCH /api/providers/{name}: omitted fields stay, null clears an override back to the env value. */
export class UpdateProviderDto {
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsUrl(HTTP_URL)
  baseUrl?: string | null;

  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsUrl(HTTP_URL)
  proxy?: string | null;

  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsInt()
  @Min(0)
  priority?: number | null;

  /** Provider-specific settings, e.g. Cloudflare's {"accountId": "…"}. */
  @IsOptional()
  @IsObject()
  extra?: Record<string, string>;
}

export class AddKeyDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(4096)
  key!: string;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  label?: string;
}

export class UpstreamDto {
  @IsString()
  @Matches(/^[A-Za-z][A-Za-z0-9_.-]{0,39}$/, { message: '$property must be letters, digits, _ . - (max 40), starting with a letter' })
  name!: string;

  @IsUrl(HTTP_URL)
  baseUrl!: string;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsUrl(HTTP_URL)
  proxy?: string | null;

  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsInt()
  @Min(0)
  priority?: number | null;

  @IsOptional()
  @IsString()
  @MaxLength(60)
  ownedBy?: string;

  /** Gateway model id → upstream model id. */
  @IsObject()
  models!: Record<string, string>;
}
