import { Inject, Injectable } from '@nestjs/common';
import type { AttemptSummary, CatalogModel } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { UpstreamError, type AudioResult, type SpeechRequest } from '../providers/provider-adapter.ts';
import { FailoverService, type RouteFilter } from '../routing/failover.service.ts';
import type { SpeechRequestDto } from './speech-request.dto.ts';

export interface SpeechJob {
  model: CatalogModel;
  /** The alias pattern the requested id matched, null for a catalog id. */
  alias: string | null;
  request: SpeechRequest;
  forced?: string;
  /** Filled in as attempts finish. */
  attempts: AttemptSummary[];
}

export interface SpokenAudio extends AudioResult {
  provider: string;
  upstreamModel: string;
}

const canSpeak: RouteFilter = (_route, provider) => (provider.adapter.speech ? null : 'cannot synthesize speech');

/** `/v1/audio/speech` over the pool: one failover run, the same rules as chat. */
@Injectable()
export class SpeechService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly failover: FailoverService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  prepare(body: SpeechRequestDto): SpeechJob {
    const { model, alias } = this.catalog.requireResolved(body.model);
    if (model.category !== 'audio') {
      throw ApiError.badRequest(
        `The model \`${model.id}\` is a ${model.category} model and cannot generate speech; use a text-to-speech model such as gpt-4o-mini-tts.`,
        'model',
        'model_not_supported',
      );
    }
    const request: SpeechRequest = { input: body.input, voice: body.voice, format: body.response_format ?? 'mp3' };
    if (body.speed !== undefined && body.speed !== null) request.speed = body.speed;
    if (body.instructions !== undefined && body.instructions !== null) request.instructions = body.instructions;
    return { model, alias, request, forced: body.provider, attempts: [] };
  }

  async speak(job: SpeechJob, signal: AbortSignal): Promise<SpokenAudio> {
    const run = this.failover.begin(job.model, job.forced, canSpeak);
    const totalMs = this.config.timeouts.totalMs;
    try {
      const { value, lease } = await run.execute(async (l) => {
        const timer = new AbortController();
        const timeout = setTimeout(() => timer.abort(), totalMs);
        try {
          return await l.provider.adapter.speech!(job.request, l.context(AbortSignal.any([signal, timer.signal])));
        } catch (err) {
          if (timer.signal.aborted && !signal.aborted) throw new UpstreamError('timeout', `no audio within ${totalMs} ms`);
          throw err;
        } finally {
          clearTimeout(timeout);
        }
      });
      return { ...value, provider: lease.provider.name, upstreamModel: lease.upstreamModel };
    } finally {
      job.attempts.push(...run.attempts);
    }
  }
}
