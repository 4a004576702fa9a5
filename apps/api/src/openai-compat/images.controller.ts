import { Body, Controller, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiError } from '../common/api-error.ts';
import { requestIdOf } from '../common/request-id.middleware.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { PoolEvents, type RequestRecord } from '../events/pool-events.service.ts';
import { publicBaseUrl } from '../media/public-url.ts';
import { UpstreamError } from '../providers/provider-adapter.ts';
import { ApiKeyGuard } from './api-key.guard.ts';
import { ImageGenerationRequestDto } from './image-request.dto.ts';
import { ImagesService, type ServedBy } from './images.service.ts';

/** A failure's status as the request log keeps it (499: the client went away). */
export function failureStatus(err: unknown): number {
  if (err instanceof ApiError) return err.status;
  return err instanceof UpstreamError && err.kind === 'aborted' ? 499 : 500;
}

@Controller('v1')
@UseGuards(ApiKeyGuard)
export class ImagesController {
  constructor(
    private readonly images: ImagesService,
    private readonly events: PoolEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('images/generations')
  @HttpCode(200)
  async generate(@Body() dto: ImageGenerationRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    const job = this.images.prepare(dto);
    const abort = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) abort.abort();
    };
    res.once('close', onClose);
    const startedAt = Date.now();
    const record = (status: number, servedBy: ServedBy | undefined, error: string | null) => {
      const entry: RequestRecord = {
        requestId: requestIdOf(res),
        endpoint: 'images',
        model: job.model.id,
        stream: false,
        startedAt,
        status,
        provider: servedBy?.provider ?? null,
        upstreamModel: servedBy?.upstreamModel ?? null,
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
      const generated = await this.images.generate(job, dto, abort.signal);
      const body = await this.images.respond(generated, dto.response_format ?? 'url', publicBaseUrl(req, this.config.publicBaseUrl));
      // Usually one provider; when a follow-up call failed over, every one that contributed, in order.
      res.setHeader('x-pool-provider', generated.servedBy.map((s) => s.provider).join(', '));
      res.setHeader('x-pool-upstream-model', generated.servedBy.map((s) => s.upstreamModel).join(', '));
      res.status(200).json(body);
      record(200, generated.servedBy[0], null);
    } catch (err) {
      record(failureStatus(err), undefined, (err as Error).message);
      throw err;
    } finally {
      res.off('close', onClose);
    }
  }
}
