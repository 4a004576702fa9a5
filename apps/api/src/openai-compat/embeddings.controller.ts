import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiClientKeyAuth, DOC_TAGS } from '../openapi/decorators.ts';
import { ApiEmbeddingsOperation } from '../openapi/openai-docs.ts';
import { ApiKeyGuard } from './api-key.guard.ts';
import { EmbeddingsResponder } from './embeddings-responder.service.ts';
import { EmbeddingsRequestDto } from './embeddings-request.dto.ts';

@ApiTags(DOC_TAGS.embeddings)
@ApiClientKeyAuth()
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class EmbeddingsController {
  constructor(private readonly responder: EmbeddingsResponder) {}

  @Post('embeddings')
  @HttpCode(200)
  @ApiEmbeddingsOperation()
  create(@Body() dto: EmbeddingsRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.responder.respond(dto, req, res);
  }
}
