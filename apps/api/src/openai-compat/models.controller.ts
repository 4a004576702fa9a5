import { Controller, Get, Param, Query, Req, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { ModelList, ModelObject, ModelObjectWithState } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { ApiClientKeyAuth, DOC_TAGS } from '../openapi/decorators.ts';
import { ApiListModelsOperation, ApiRetrieveModelOperation } from '../openapi/openai-docs.ts';
import { AutoModelsService } from '../models/auto-models.service.ts';
import type { ModelFilter } from '../models/auto-models.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { ModelAvailabilityService } from '../models/model-availability.ts';
import { ClientKeysService } from '../client-keys/client-keys.service.ts';
import { ApiKeyGuard, allowedModelFilter, modelAllowed, type ClientKeyRequest } from './api-key.guard.ts';

/** `?all=`: a flag as query strings spell one; anything else is a mistake worth saying. */
function allFlag(raw: string | undefined): boolean {
  const value = raw?.trim().toLowerCase();
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw ApiError.badRequest(`Invalid value for 'all': expected true or false, got '${raw!.slice(0, 20)}'.`, 'all', 'invalid_value');
}

/** A virtual model as `/v1/models` lists it: the pool owns it. */
const autoObject = (id: string): ModelObject => ({ id, object: 'model', created: AUTO_CREATED, owned_by: 'gpt4free-pool' });
/** `created` of the virtual models: when they first shipped. */
const AUTO_CREATED = 1_796_601_600; // 2026-12-07T00:00:00Z

@ApiTags(DOC_TAGS.models)
@ApiClientKeyAuth()
@Controller('v1/models')
@UseGuards(ApiKeyGuard)
export class ModelsController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly availability: ModelAvailabilityService,
    private readonly clientKeys: ClientKeysService,
    private readonly autoModels: AutoModelsService,
  ) {}

  /** The models a request can be served for now; with ?all=true the whole catalog, each with its state. */
  @Get()
  @ApiListModelsOperation()
  list(@Req() req: ClientKeyRequest, @Query('all') all?: string): ModelList {
    // A client key with allowed models sees only those (an id matching one of its patterns).
    const patterns = req.clientKeyId ? (this.clientKeys.allowedModels(req.clientKeyId) ?? []) : [];
    const allowed = <T extends { id: string }>(models: T[]) => (patterns.length ? models.filter((m) => modelAllowed(patterns, m.id, m.id)) : models);
    // An auto model picks only among the models the key may use: listed when one of those can serve.
    const members = allowedModelFilter(patterns);
    if (allFlag(all)) return { object: 'list', data: allowed([...this.withState(), ...this.autoWithState(members)]) };
    const available = this.availability.availableIds();
    const autos = this.autoWithState(members).flatMap(({ available, reason: _reason, ...m }) => (available ? [m] : []));
    return { object: 'list', data: allowed([...this.catalog.list().filter((m) => available.has(m.id)), ...autos]) };
  }

  /** Ids of operator-defined models may contain slashes ("org/model"). */
  @Get('*id')
  @ApiRetrieveModelOperation()
  get(@Param('id') id: string | string[]): ModelObject {
    const wanted = Array.isArray(id) ? id.join('/') : id;
    const auto = this.catalog.resolve(wanted) ? undefined : this.autoModels.find(wanted);
    if (auto) return autoObject(auto.id);
    const model = this.catalog.require(wanted);
    return this.catalog.list().find((m) => m.id === model.id)!;
  }

  /**
   * The virtual models, each available when one of its models is (the request's needs aside),
   * among those `usable` leaves (a client key's allowed models).
   */
  private autoWithState(usable?: ModelFilter): ModelObjectWithState[] {
    const available = this.availability.availableIds();
    return this.autoModels.all().map((auto) => {
      const members = this.autoModels.members(auto).filter((m) => !usable || usable(m));
      const any = members.some((m) => available.has(m.id));
      const reason = any ? null : members.length ? 'none of its models can be served now' : 'none of its models is allowed for this key';
      return { ...autoObject(auto.id), available: any, reason };
    });
  }

  private withState(): ModelObjectWithState[] {
    return this.catalog.list().map((m) => ({ ...m, ...this.availability.of(this.catalog.resolve(m.id)!) }));
  }
}
