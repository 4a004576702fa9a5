import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiAdminAuth, DOC_TAGS } from '../openapi/decorators.ts';
import { ApiImagePlaygroundOperation, ApiPlaygroundOperation } from '../openapi/openai-docs.ts';
import { ChatCompletionRequestDto } from '../openai-compat/chat-request.dto.ts';
import { ChatResponder } from '../openai-compat/chat-responder.service.ts';
import { ImageGenerationRequestDto } from '../openai-compat/image-request.dto.ts';
import { ImagesResponder } from '../openai-compat/images-responder.service.ts';
import { AdminGuard } from '../auth/admin-auth.guard.ts';

/** The console's chat playground: the same request and answer as /v1/chat/completions, streams included. */
@ApiTags(DOC_TAGS.playground)
@ApiAdminAuth()
@Controller('api/chat')
@UseGuards(AdminGuard)
export class PlaygroundController {
  constructor(private readonly responder: ChatResponder) {}

  @Post('test')
  @HttpCode(200)
  @ApiPlaygroundOperation()
  test(@Body() dto: ChatCompletionRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.responder.respond(dto, req, res);
  }
}

/** The console's image playground: the same request and answer as /v1/images/generations, with the admin session instead of a client key. */
@ApiTags(DOC_TAGS.playground)
@ApiAdminAuth()
@Controller('api/images')
@UseGuards(AdminGuard)
export class ImagePlaygroundController {
  constructor(private readonly responder: ImagesResponder) {}

  @Post('test')
  @HttpCode(200)
  @ApiImagePlaygroundOperation()
  test(@Body() dto: ImageGenerationRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.responder.respond(dto, req, res);
  }
}
