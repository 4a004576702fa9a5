import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { requestIdOf } from '../common/request-id.middleware.ts';
import { PoolEvents, type RequestRecord } from '../events/pool-events.service.ts';
import { ApiKeyGuard } from './api-key.guard.ts';
import { failureStatus } from './images.controller.ts';
import { SpeechRequestDto } from './speech-request.dto.ts';
import { SpeechService, type SpokenAudio } from './speech.service.ts';

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
  async create(@Body() dto: SpeechRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    const job = this.speech.prepare(dto);
    const abort = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) abort.abort();
    };
    res.once('close', onClose);
    const startedAt = Date.now();
    const record = (status: number, audio: SpokenAudio | undefined, error: string | null) => {
      const entry: RequestRecord = {
        requestId: requestIdOf(res),
        endpoint: 'speech',
        model: job.model.id,
        stream: false,
        startedAt,
        status,
        provider: audio?.provider ?? null,
        upstreamModel: audio?.upstreamModel ?? null,
        latencyMs: Date.now() - startedAt,
        ttftMs: null,
        usage: null,
        usageEstimated: false,
        attempts: job.attempts,
        error,
        clientKey: (req as Request & { clientKeyId?: string }).clientKeyId ?? null,
      };
      this.events.emit(entry);
    };

    try {
      const audio = await this.speech.speak(job, abort.signal);
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
      res.off('close', onClose);
    }
  }
}
