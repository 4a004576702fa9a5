import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiClientKeyAuth, DOC_TAGS } from '../openapi/decorators.ts';
import { ApiChatCompletionOperation } from '../openapi/openai-docs.ts';
import { ApiKeyGuard } from './api-key.guard.ts';
import { ChatCompletionRequestDto } from './chat-request.dto.ts';
import { ChatResponder } from './chat-responder.service.ts';

@ApiTags(DOC_TAGS.chat)
@ApiClientKeyAuth()
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class ChatController {
  constructor(private readonly responder: ChatResponder) {}

  @Post('chat/completions')
  @HttpCode(200)
  @ApiChatCompletionOperation()
  create(@Body() dto: ChatCompletionRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.responder.respond(dto, req, res);
  }
}
