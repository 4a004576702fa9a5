import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiClientKeyAuth, DOC_TAGS } from '../openapi/decorators.ts';
import { ApiCreateResponseOperation, ApiDeleteResponseOperation, ApiListInputItemsOperation, ApiRetrieveResponseOperation } from '../openapi/openai-docs.ts';
import { ApiKeyGuard, type ClientKeyRequest } from './api-key.guard.ts';
import { inputItemPage, type InputItemList, type InputItemsQuery } from './responses-input-items.ts';
import type { ResponseObject } from './responses-output.ts';
import { ResponsesRequestDto } from './responses-request.dto.ts';
import { ResponsesResponder } from './responses-responder.service.ts';
import { ResponsesStore, responseNotFound } from './responses-store.ts';

/** OpenAI's deletion object. */
export interface ResponseDeleted {
  id: string;
  object: 'response.deleted';
  deleted: true;
}

/** OpenAI's Responses API: create (stream or not), retrieve and delete a stored response, list its input items. */
@ApiTags(DOC_TAGS.chat)
@ApiClientKeyAuth()
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class ResponsesController {
  constructor(
    private readonly responder: ResponsesResponder,
    private readonly store: ResponsesStore,
  ) {}

  @Post('responses')
  @HttpCode(200)
  @ApiCreateResponseOperation()
  create(@Body() dto: ResponsesRequestDto, @Req() req: ClientKeyRequest, @Res() res: Response): Promise<void> {
    return this.responder.create(dto, req, res);
  }

  @Get('responses/:response_id')
  @ApiRetrieveResponseOperation()
  async retrieve(@Param('response_id') id: string, @Req() req: ClientKeyRequest): Promise<ResponseObject> {
    const record = await this.store.load(id, this.store.ownerOf(req));
    if (!record) throw responseNotFound(id);
    return record.response;
  }

  @Get('responses/:response_id/input_items')
  @ApiListInputItemsOperation()
  async inputItems(@Param('response_id') id: string, @Query() query: InputItemsQuery, @Req() req: ClientKeyRequest): Promise<InputItemList> {
    const record = await this.store.load(id, this.store.ownerOf(req));
    if (!record) throw responseNotFound(id);
    return inputItemPage(record.input ?? [], query);
  }

  @Delete('responses/:response_id')
  @HttpCode(200)
  @ApiDeleteResponseOperation()
  async remove(@Param('response_id') id: string, @Req() req: ClientKeyRequest): Promise<ResponseDeleted> {
    if (!(await this.store.remove(id, this.store.ownerOf(req)))) throw responseNotFound(id);
    return { id, object: 'response.deleted', deleted: true };
  }
}
