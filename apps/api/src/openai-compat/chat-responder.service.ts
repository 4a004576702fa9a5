import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { ChatCompletionRequest } from '#contracts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import type { ChatCompletionRequestDto } from './chat-request.dto.ts';
import { chatProtocol } from './chat-protocol.ts';
import { RunResponder } from './run-responder.service.ts';

/**
 * Answers one chat request on an Express response: SSE or a chat.completion, headers, the
 * request record. Shared by /v1/chat/completions and the console's playground.
 */
@Injectable()
export class ChatResponder {
  constructor(
    private readonly runs: RunResponder,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  respond(dto: ChatCompletionRequestDto, req: Request, res: Response): Promise<void> {
    const body = dto as unknown as ChatCompletionRequest;
    return this.runs.respond(body, req, res, chatProtocol(body, this.config.responseModel), 'chat');
  }
}
