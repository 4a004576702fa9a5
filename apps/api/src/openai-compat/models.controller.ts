import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import type { ModelList, ModelObject } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { ApiKeyGuard } from './api-key.guard.ts';

@Controller('v1/models')
@UseGuards(ApiKeyGuard)
export class ModelsController {
  constructor(private readonly catalog: CatalogService) {}

  @Get()
  list(): ModelList {
    return { object: 'list', data: this.catalog.list() };
  }

  /** Ids of operator-defined models may contain slashes ("org/model"). */
  @Get('*id')
  get(@Param('id') id: string | string[]): ModelObject {
    const wanted = Array.isArray(id) ? id.join('/') : id;
    const model = this.catalog.resolve(wanted);
    if (!model) {
      throw new ApiError(404, `The model \`${wanted}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found', 'model');
    }
    return this.catalog.list().find((m) => m.id === model.id)!;
  }
}
