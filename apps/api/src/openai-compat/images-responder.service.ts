import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ClientKeysService } from '../client-keys/client-keys.service.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { PoolEvents } from '../events/pool-events.service.ts';
import { publicBaseUrl } from '../media/public-url.ts';
import { requestModelFilter } from './api-key.guard.ts';
import { ClientCall, failureStatus } from './client-call.ts';
import type { ImageGenerationRequestDto } from './image-request.dto.ts';
import { ImagesService, type ImagesJob, type ServedBy } from './images.service.ts';

/**
 * Answers one image generation on an Express response: the images, the x-pool-* headers and
 * the request record. Shared by /v1/images/generations and the console's playground.
 */
@Injectable()
export class ImagesResponder {
  constructor(
    private readonly images: ImagesService,
    private readonly events: PoolEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clientKeys: ClientKeysService,
  ) {}

  async respond(dto: ImageGenerationRequestDto, req: Request, res: Response): Promise<void> {
    const client = new ClientCall(this.events, req, res, 'images');
    let job: ImagesJob | undefined;
    // A request refused before any provider is tried (unknown model, say) is in the log too.
    const record = (status: number, servedBy: ServedBy | undefined, error: string | null) =>
      client.record({
        model: job?.model.id ?? dto.model ?? '',
        alias: job?.alias ?? null,
        status,
        provider: servedBy?.provider ?? null,
        upstreamModel: servedBy?.upstreamModel ?? null,
        attempts: job?.attempts ?? [],
        error,
      });

    try {
      job = this.images.prepare(dto, requestModelFilter(this.clientKeys, req));
      const generated = await this.images.generate(job, dto, client.signal);
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
      client.done();
    }
  }
}
