import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiClientKeyAuth, DOC_TAGS } from '../openapi/decorators.ts';
import { ApiImageGenerationOperation } from '../openapi/openai-docs.ts';
import { ApiKeyGuard } from './api-key.guard.ts';
import { ImageGenerationRequestDto } from './image-request.dto.ts';
import { ImagesResponder } from './images-responder.service.ts';

@ApiTags(DOC_TAGS.images)
@ApiClientKeyAuth()
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class ImagesController {
  constructor(private readonly responder: ImagesResponder) {}

  @Post('images/generations')
  @HttpCode(200)
  @ApiImageGenerationOperation()
  generate(@Body() dto: ImageGenerationRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.responder.respond(dto, req, res);
  }
}
