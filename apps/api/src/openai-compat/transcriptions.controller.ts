import { Body, Controller, HttpCode, Post, Req, Res, UploadedFile, UseGuards, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { PoolEvents } from '../events/pool-events.service.ts';
import { ApiClientKeyAuth, DOC_TAGS } from '../openapi/decorators.ts';
import { ApiTranscriptionOperation } from '../openapi/openai-docs.ts';
import { ClientKeysService } from '../client-keys/client-keys.service.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { ApiKeyGuard, assertModelAllowed, type ClientKeyRequest } from './api-key.guard.ts';
import { ClientCall, failureStatus } from './client-call.ts';
import { renderTranscript } from './transcription-format.ts';
import { TranscriptionRequestDto } from './transcription-request.dto.ts';
import { TranscriptionsService, type Transcribed, type TranscriptionJob, type UploadedAudio } from './transcriptions.service.ts';
import { UploadSlots } from './upload-slots.interceptor.ts';

@ApiTags(DOC_TAGS.audio)
@ApiClientKeyAuth()
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class TranscriptionsController {
  constructor(
    private readonly transcriptions: TranscriptionsService,
    private readonly events: PoolEvents,
    private readonly clientKeys: ClientKeysService,
    private readonly catalog: CatalogService,
  ) {}

  /**
   * Multipart, read by multer with the limits of OpenAICompatModule's MulterModule (TRANSCRIPTION_MAX_BYTES),
   * at most TRANSCRIPTION_MAX_CONCURRENT at once (UploadSlots).
   */
  @Post('audio/transcriptions')
  @HttpCode(200)
  @UseInterceptors(UploadSlots, FileInterceptor('file'))
  @ApiTranscriptionOperation()
  async create(
    @Body() dto: TranscriptionRequestDto,
    @UploadedFile() file: UploadedAudio | undefined,
    @Req() req: ClientKeyRequest,
    @Res() res: Response,
  ): Promise<void> {
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
