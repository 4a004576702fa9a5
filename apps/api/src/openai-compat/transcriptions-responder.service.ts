import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { PoolEvents } from '../events/pool-events.service.ts';
import { ClientKeysService } from '../client-keys/client-keys.service.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { assertModelAllowed, type ClientKeyRequest } from './api-key.guard.ts';
import { ClientCall, failureStatus } from './client-call.ts';
import { renderTranscript } from './transcription-format.ts';
import type { TranscriptionRequestDto } from './transcription-request.dto.ts';
import { TranscriptionsService, type Transcribed, type TranscriptionJob, type UploadedAudio } from './transcriptions.service.ts';

/**
 * Answers one transcription (a form multer has read) on an Express response: the transcript in
 * the asked format, the x-pool-* headers and the request record. Shared by
 * /v1/audio/transcriptions and the console's playground.
 */
@Injectable()
export class TranscriptionsResponder {
  constructor(
    private readonly transcriptions: TranscriptionsService,
    private readonly events: PoolEvents,
    private readonly clientKeys: ClientKeysService,
    private readonly catalog: CatalogService,
  ) {}

  async respond(dto: TranscriptionRequestDto, file: UploadedAudio | undefined, req: ClientKeyRequest, res: Response): Promise<void> {
    const client = new ClientCall(this.events, req, res, 'transcriptions');
    let job: TranscriptionJob | undefined;
    // A request refused before any provider is tried (unknown model, say) is in the log too.
    const record = (status: number, done: Transcribed | undefined, error: string | null) =>
      client.record({
        model: job?.model.id ?? (typeof dto?.model === 'string' ? dto.model : ''),
        alias: job?.alias ?? null,
        status,
        provider: done?.provider ?? null,
        upstreamModel: done?.upstreamModel ?? null,
        attempts: job?.attempts ?? [],
        error,
      });

    try {
      // The guard could not read the model from a multipart body; a client key's allowed models apply here.
      const allowed = req.clientKeyId === undefined ? undefined : this.clientKeys.allowedModels(req.clientKeyId);
      if (allowed && typeof dto?.model === 'string') assertModelAllowed(allowed, dto.model, this.catalog.lookup(dto.model)?.model.id);
      job = this.transcriptions.prepare(dto, file);
      const done = await this.transcriptions.transcribe(job, client.signal);
      const { type, body } = renderTranscript(done, job.format, job.request.language);
      res.setHeader('x-pool-provider', done.provider);
      res.setHeader('x-pool-upstream-model', done.upstreamModel);
      res.status(200).type(type).send(body);
      record(200, done, null);
    } catch (err) {
      record(failureStatus(err), undefined, (err as Error).message);
      throw err;
    } finally {
      client.done();
    }
  }
}
