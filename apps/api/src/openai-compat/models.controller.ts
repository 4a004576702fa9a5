import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { ModelList, ModelObject } from '#contracts';
import { ApiClientKeyAuth, DOC_TAGS } from '../openapi/decorators.ts';
import { ApiListModelsOperation, ApiRetrieveModelOperation } from '../openapi/openai-docs.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { ApiKeyGuard } from './api-key.guard.ts';

@ApiTags(DOC_TAGS.models)
@ApiClientKeyAuth()
@Controller('v1/models')
@UseGuards(ApiKeyGuard)
export class ModelsController {
  constructor(private readonly catalog: CatalogService) {}

  @Get()
  @ApiListModelsOperation()
  list(): ModelList {
    return { object: 'list', data: this.catalog.list() };
  }

  /** Ids of operator-defined models may contain slashes ("org/model"). */
  @Get('*id')
  @ApiRetrieveModelOperation()
  get(@Param('id') id: string | string[]): ModelObject {
    const wanted = Array.isArray(id) ? id.join('/') : id;
    const model = this.catalog.require(wanted);
    return this.catalog.list().find((m) => m.id === model.id)!;
  }
}
