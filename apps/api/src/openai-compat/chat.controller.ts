import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiKeyGuard } from './api-key.guard.ts';
import { ChatCompletionRequestDto } from './chat-request.dto.ts';
import { ChatResponder } from './chat-responder.service.ts';

@Controller('v1')
@UseGuards(ApiKeyGuard)
export class ChatController {
  constructor(private readonly responder: ChatResponder) {}

  @Post('chat/completions')
  @HttpCode(200)
  create(@Body() dto: ChatCompletionRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.responder.respond(dto, req, res);
  }
}
