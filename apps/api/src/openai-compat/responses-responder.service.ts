import { Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { ApiError } from '../common/api-error.ts';
import { truncate } from '../events/record-bounds.ts';
import type { ClientKeyRequest } from './api-key.guard.ts';
import { nowSeconds } from './client-call.ts';
import { inputItemResources } from './responses-input-items.ts';
import { responseObject, ResponseIds, type ResponseEcho, type ResponseObject } from './responses-output.ts';
import { responsesProtocol } from './responses-protocol.ts';
import type { ResponsesRequestDto } from './responses-request.dto.ts';
import { ResponsesStore, type StoredConversation } from './responses-store.ts';
import { inputMessages, referencedIds, toChatRequest } from './responses-translate.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { answerModel } from '../models/answer-model.ts';
import type { ChatStart } from './chat.service.ts';
import { RunResponder } from './run-responder.service.ts';

const stringOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Function tools as a response echoes them (OpenAI's FunctionTool: every field present). */
function echoedTools(tools: ResponsesRequestDto['tools']): unknown[] {
  return (tools ?? []).map((t) => ({
    type: 'function',
    name: t.name,
    description: stringOrNull(t.description),
    parameters: typeof t.parameters === 'object' && t.parameters !== null ? t.parameters : null,
    strict: typeof t.strict === 'boolean' ? t.strict : null,
  }));
}

/** What the response repeats of its request, with OpenAI's defaults for what was not sent. */
function echoOf(dto: ResponsesRequestDto, store: boolean): ResponseEcho {
  return {
    instructions: dto.instructions ?? null,
    max_output_tokens: dto.max_output_tokens ?? null,
    // The requested id, as chat completions answer today.
    model: dto.model,
    parallel_tool_calls: dto.parallel_tool_calls ?? true,
    previous_response_id: dto.previous_response_id ?? null,
    reasoning: { effort: stringOrNull(dto.reasoning?.effort), summary: stringOrNull(dto.reasoning?.summary) },
    store,
    temperature: dto.temperature ?? 1,
    text: { format: dto.text?.format ?? { type: 'text' } },
    tool_choice: dto.tool_choice ?? 'auto',
    tools: echoedTools(dto.tools),
    top_p: dto.top_p ?? 1,
    metadata: dto.metadata ?? {},
    user: dto.user,
  };
}

/**
 * Answers `POST /v1/responses` on the failover core: the earlier turns (`previous_response_id`)
 * and referenced items are loaded, the request becomes a chat request, RunResponder runs it, and
 * a finished response is stored unless `store: false`.
 */
@Injectable()
export class ResponsesResponder {
  constructor(
    private readonly runs: RunResponder,
    private readonly store: ResponsesStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(dto: ResponsesRequestDto, req: ClientKeyRequest, res: Response): Promise<void> {
    const owner = this.store.ownerOf(req);
    const store = dto.store !== false;
    const previous = dto.previous_response_id === undefined ? undefined : await this.history(dto.previous_response_id, owner);
    const history = previous?.messages ?? [];
    const ids = referencedIds(dto.input);
    const references = ids.length ? await this.store.references(ids, owner) : undefined;
    const turn = inputMessages(dto.input, references);
    const body = toChatRequest(dto, history, turn);
    const responseIds = new ResponseIds();
    const base = responseObject(responseIds, nowSeconds(), echoOf(dto, store));
    const finished = (response: ResponseObject, json?: string): void => {
      if (!store) return;
      const input = inputItemResources(dto.input, responseIds.token, references);
      const record = { response, asked: turn, previous: dto.previous_response_id, input };
      void this.store.save(record, owner, previous?.chain, json);
    };
    const modelOf = (start: ChatStart) => answerModel(this.config.responseModel, dto.model, start.upstreamModel);
    return this.runs.respond(body, req, res, responsesProtocol(base, responseIds, finished, modelOf), 'responses');
  }

  /** The conversation a response continues; its instructions are not part of it (as OpenAI documents). */
  private async history(previousId: string, owner: string): Promise<StoredConversation> {
    const previous = await this.store.conversation(previousId, owner);
    if (!previous) {
      throw ApiError.badRequest(`Previous response with id '${truncate(previousId, 200)}' not found.`, 'previous_response_id', 'previous_response_not_found');
    }
    return previous;
  }
}
