import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PoolEvents } from '../events/pool-events.service.ts';
import { encodeFloat32Base64 } from '../providers/embedding-vectors.ts';
import { ClientCall, failureStatus } from './client-call.ts';
import type { EmbeddingsRequestDto } from './embeddings-request.dto.ts';
import { EmbeddingsService, type Embedded, type EmbeddingsJob } from './embeddings.service.ts';

/** OpenAI's `CreateEmbeddingResponse`, as this gateway fills it. */
export interface EmbeddingsResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

export function embeddingsResponse(embedded: Pick<Embedded, 'vectors' | 'promptTokens'>, model: string, format: 'float' | 'base64'): EmbeddingsResponse {
  return {
    object: 'list',
    data: embedded.vectors.map((v, index) => ({ object: 'embedding', index, embedding: format === 'base64' ? encodeFloat32Base64(v) : v })),
    model,
    usage: { prompt_tokens: embedded.promptTokens, total_tokens: embedded.promptTokens },
  };
}

/**
 * Answers one embeddings request on an Express response: the vectors, the x-pool-* headers and
 * the request record. Shared by /v1/embeddings and the console's playground.
 */
@Injectable()
export class EmbeddingsResponder {
  constructor(
    private readonly embeddings: EmbeddingsService,
    private readonly events: PoolEvents,
  ) {}

  async respond(dto: EmbeddingsRequestDto, req: Request, res: Response): Promise<void> {
    const client = new ClientCall(this.events, req, res, 'embeddings');
    let job: EmbeddingsJob | undefined;
    // A request refused before any provider is tried (unknown model, say) is in the log too.
    const record = (status: number, done: Embedded | undefined, error: string | null) =>
      client.record({
        model: job?.model.id ?? (typeof dto.model === 'string' ? dto.model : ''),
        alias: job?.alias ?? null,
        status,
        provider: done?.provider ?? null,
        upstreamModel: done?.upstreamModel ?? null,
        attempts: job?.attempts ?? [],
        usage: done ? { prompt_tokens: done.promptTokens, completion_tokens: 0, total_tokens: done.promptTokens } : null,
        usageEstimated: done?.estimated ?? false,
        error,
      });

    try {
      job = this.embeddings.prepare(dto);
      const done = await this.embeddings.embed(job, client.signal);
      res.setHeader('x-pool-provider', done.provider);
      res.setHeader('x-pool-upstream-model', done.upstreamModel);
      res.status(200).json(embeddingsResponse(done, dto.model, dto.encoding_format ?? 'float'));
      record(200, done, null);
    } catch (err) {
      record(failureStatus(err), undefined, (err as Error).message);
      throw err;
    } finally {
      client.done();
    }
  }
}
