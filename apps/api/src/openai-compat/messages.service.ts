import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AutoModelsService } from '../models/auto-models.service.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { countPromptTokens } from '../usage/token-counter.ts';
import type { CountMessageTokensDto, CreateMessageDto } from './messages-request.dto.ts';
import { messagesProtocol } from './messages-protocol.ts';
import { toChatPrompt, toChatRequest } from './messages-translate.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { answerModel } from '../models/answer-model.ts';
import type { ChatStart } from './chat.service.ts';
import { RunResponder } from './run-responder.service.ts';

/** `POST /v1/messages/count_tokens`. */
export interface MessageTokensCount {
  input_tokens: number;
}

/** The Anthropic Messages API over the failover core: the request translated, the answer in Anthropic's shape. */
@Injectable()
export class MessagesService {
  constructor(
    private readonly runs: RunResponder,
    private readonly catalog: CatalogService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly autoModels: AutoModelsService,
  ) {}

  respond(dto: CreateMessageDto, req: Request, res: Response): Promise<void> {
    const body = toChatRequest(dto);
    const modelOf = (start: ChatStart) => answerModel(this.config.responseModel, body.model, start.upstreamModel);
    return this.runs.respond(body, req, res, messagesProtocol(body, modelOf), 'messages');
  }

  /** The gateway's estimate (o200k_base, as for answers without usage) of what the prompt costs; the model must exist, as on create. */
  countTokens(dto: CountMessageTokensDto): MessageTokensCount {
    if (!this.autoModels.find(dto.model)) this.catalog.require(dto.model);
    const { messages, tools } = toChatPrompt(dto);
    return { input_tokens: countPromptTokens(messages, tools) };
  }
}
