import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiClientKeyAuth, DOC_TAGS } from '../openapi/decorators.ts';
import { ApiSpeechOperation } from '../openapi/openai-docs.ts';
import { PoolEvents } from '../events/pool-events.service.ts';
import { ApiKeyGuard } from './api-key.guard.ts';
import { ClientCall, failureStatus } from './client-call.ts';
import { SpeechRequestDto } from './speech-request.dto.ts';
import { SpeechService, type SpeechJob, type SpokenAudio } from './speech.service.ts';

@ApiTags(DOC_TAGS.audio)
@ApiClientKeyAuth()
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class SpeechController {
  constructor(
    private readonly speech: SpeechService,
    private readonly events: PoolEvents,
  ) {}

  /** Answers with the audio file itself, as OpenAI does. */
  @Post('audio/speech')
  @HttpCode(200)
  @ApiSpeechOperation()
  async create(@Body() dto: SpeechRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    const client = new ClientCall(this.events, req, res, 'speech');
    let job: SpeechJob | undefined;
    // A request refused before any provider is tried (unknown model, say) is in the log too.
    const record = (status: number, audio: SpokenAudio | undefined, error: string | null) =>
      client.record({
        model: job?.model.id ?? dto.model,
        alias: job?.alias ?? null,
        status,
        provider: audio?.provider ?? null,
        upstreamModel: audio?.upstreamModel ?? null,
        attempts: job?.attempts ?? [],
        error,
      });

    try {
      job = this.speech.prepare(dto);
      const audio = await this.speech.speak(job, client.signal);
      res.setHeader('x-pool-provider', audio.provider);
      res.setHeader('x-pool-upstream-model', audio.upstreamModel);
      res.setHeader('content-type', audio.mime);
      res.setHeader('content-length', String(audio.data.length));
      res.status(200).end(audio.data);
      record(200, audio, null);
    } catch (err) {
      record(failureStatus(err), undefined, (err as Error).message);
      throw err;
    } finally {
      client.done();
    }
  }
}
