import { Body, Controller, Delete, Get, Header, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import type { ClientKey, ClientKeyList, CreateClientKeyRequest, CreatedClientKey, UpdateClientKeyRequest } from '#contracts';
import { AdminGuard } from '../admin/admin-auth.guard.ts';
import { ClientKeysService } from './client-keys.service.ts';

/** The highest limit accepted; above it, set no limit. */
export const MAX_RPM_LIMIT = 1_000_000;

export class CreateClientKeyDto implements CreateClientKeyRequest {
  @IsString()
  @MaxLength(100)
  @Matches(/\S/, { message: '$property must not be empty' })
  name!: string;

  /** null or absent: no limit. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_RPM_LIMIT)
  rpmLimit?: number | null;
}

export class UpdateClientKeyDto implements UpdateClientKeyRequest {
  /** Absent leaves the name; null is not a name. */
  @ValidateIf((o: UpdateClientKeyDto) => o.name !== undefined)
  @IsString()
  @MaxLength(100)
  @Matches(/\S/, { message: '$property must not be empty' })
  name?: string;

  /** Absent leaves the limit; null removes it. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_RPM_LIMIT)
  rpmLimit?: number | null;
}

/** Client API keys for /v1 (the console's "API 密钥" page). */
@Controller('api/keys')
@UseGuards(AdminGuard)
export class ClientKeysController {
  constructor(private readonly keys: ClientKeysService) {}

  @Get()
  list(): Promise<ClientKeyList> {
    return this.keys.list();
  }

  /** The only answer that ever contains the secret. */
  @Post()
  @HttpCode(201)
  @Header('cache-control', 'no-store')
  create(@Body() dto: CreateClientKeyDto): Promise<CreatedClientKey> {
    return this.keys.create(dto.name.trim(), dto.rpmLimit ?? null);
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<ClientKey> {
    return this.keys.get(id);
  }

  @Patch(':id')
  update(@Param('id') id: string, @Body() dto: UpdateClientKeyDto): Promise<ClientKey> {
    return this.keys.update(id, { name: dto.name?.trim(), rpmLimit: dto.rpmLimit });
  }

  @Delete(':id')
  @HttpCode(200)
  revoke(@Param('id') id: string): Promise<ClientKey> {
    return this.keys.revoke(id);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  revokeByPost(@Param('id') id: string): Promise<ClientKey> {
    return this.keys.revoke(id);
  }
}
