import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiClientKeyAuth, DOC_TAGS } from '../openapi/decorators.ts';
import { ApiCountMessageTokensOperation, ApiCreateMessageOperation } from '../openapi/anthropic-docs.ts';
import { ApiKeyGuard } from './api-key.guard.ts';
import { CountMessageTokensDto, CreateMessageDto } from './messages-request.dto.ts';
import { MessagesService, type MessageTokensCount } from './messages.service.ts';

/** Anthropic's Messages API, for Claude Code and the Anthropic SDKs; the same client keys as the rest of /v1. */
@ApiTags(DOC_TAGS.messages)
@ApiClientKeyAuth()
@Controller('v1/messages')
@UseGuards(ApiKeyGuard)
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Post()
  @HttpCode(200)
  @ApiCreateMessageOperation()
  create(@Body() dto: CreateMessageDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.messages.respond(dto, req, res);
  }

  @Post('count_tokens')
  @HttpCode(200)
  @ApiCountMessageTokensOperation()
  countTokens(@Body() dto: CountMessageTokensDto): MessageTokensCount {
    return this.messages.countTokens(dto);
  }
}
