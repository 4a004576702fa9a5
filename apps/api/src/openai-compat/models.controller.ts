import { Controller, Get, Param, Query, Req, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { ModelList, ModelObject, ModelObjectWithState } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { ApiClientKeyAuth, DOC_TAGS } from '../openapi/decorators.ts';
import { ApiListModelsOperation, ApiRetrieveModelOperation } from '../openapi/openai-docs.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { ModelAvailabilityService } from '../models/model-availability.ts';
import { ClientKeysService } from '../client-keys/client-keys.service.ts';
import { ApiKeyGuard, modelAllowed, type ClientKeyRequest } from './api-key.guard.ts';

/** `?all=`: a flag as query strings spell one; anything else is a mistake worth saying. */
function allFlag(raw: string | undefined): boolean {
  const value = raw?.trim().toLowerCase();
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw ApiError.badRequest(`Invalid value for 'all': expected true or false, got '${raw!.slice(0, 20)}'.`, 'all', 'invalid_value');
}

@ApiTags(DOC_TAGS.models)
@ApiClientKeyAuth()
@Controller('v1/models')
@UseGuards(ApiKeyGuard)
export class ModelsController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly availability: ModelAvailabilityService,
    private readonly clientKeys: ClientKeysService,
  ) {}

  /** The models a request can be served for now; with ?all=true the whole catalog, each with its state. */
  @Get()
  @ApiListModelsOperation()
  list(@Req() req: ClientKeyRequest, @Query('all') all?: string): ModelList {
    // A client key with allowed models sees only those (an id matching one of its patterns).
    const patterns = req.clientKeyId ? (this.clientKeys.allowedModels(req.clientKeyId) ?? []) : [];
    const allowed = <T extends { id: string }>(models: T[]) => (patterns.length ? models.filter((m) => modelAllowed(patterns, m.id, m.id)) : models);
    if (allFlag(all)) return { object: 'list', data: allowed(this.withState()) };
    const available = this.availability.availableIds();
    return { object: 'list', data: allowed(this.catalog.list().filter((m) => available.has(m.id))) };
  }

  /** Ids of operator-defined models may contain slashes ("org/model"). */
  @Get('*id')
  @ApiRetrieveModelOperation()
  get(@Param('id') id: string | string[]): ModelObject {
    const wanted = Array.isArray(id) ? id.join('/') : id;
    const model = this.catalog.require(wanted);
    return this.catalog.list().find((m) => m.id === model.id)!;
  }

  private withState(): ModelObjectWithState[] {
    return this.catalog.list().map((m) => ({ ...m, ...this.availability.of(this.catalog.resolve(m.id)!) }));
  }
}
