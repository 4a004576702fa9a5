import { Inject, Injectable } from '@nestjs/common';
import type { AttemptSummary, CatalogModel } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { UpstreamError, type ProviderAdapter, type TranscriptionRequest, type TranscriptionResult } from '../providers/provider-adapter.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';
import { FailoverService, type RouteFilter } from '../routing/failover.service.ts';
import { NEEDS_SEGMENTS, sniffUpload, type TranscriptionFormat } from './transcription-format.ts';
import type { TranscriptionRequestDto } from './transcription-request.dto.ts';

/** What multer hands over for the `file` part (memory storage). */
export interface UploadedAudio {
  buffer: Buffer;
  originalname?: string;
}

export interface TranscriptionJob {
  model: CatalogModel;
  alias: string | null;
  request: TranscriptionRequest;
  format: TranscriptionFormat;
  forced?: string;
  attempts: AttemptSummary[];
}

export interface Transcribed extends TranscriptionResult {
  provider: string;
  upstreamModel: string;
}

function unsuitable(adapter: ProviderAdapter, segments: boolean): string | null {
  if (!adapter.transcribe || !adapter.transcriptions) return 'cannot transcribe audio';
  if (segments && !adapter.transcriptions.segments) return 'gives no timed segments';
  return null;
}

/** `/v1/audio/transcriptions` over the pool: one failover run, the same rules as speech. */
@Injectable()
export class TranscriptionsService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly failover: FailoverService,
    private readonly registry: ProviderRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  prepare(body: TranscriptionRequestDto, file: UploadedAudio | undefined): TranscriptionJob {
    const { model, alias } = this.catalog.requireResolved(body.model);
    if (model.category !== 'speech-to-text') {
      throw ApiError.badRequest(
        `The model \`${model.id}\` is a ${model.category} model and cannot transcribe audio; use a speech-to-text model such as whisper-large-v3-turbo.`,
        'model',
        'model_not_supported',
      );
    }
    if (!file || file.buffer.length === 0) throw ApiError.badRequest('A `file` part with the audio is required.', 'file', 'missing_file');
    const kind = sniffUpload(file.buffer);
    if (!kind) throw ApiError.badRequest('Invalid file format. Supported formats: flac, m4a, mp3, ogg, wav, webm.', 'file', 'invalid_file_format');
    const format = body.response_format ?? 'json';
    const request: TranscriptionRequest = { audio: file.buffer, filename: `audio.${kind.ext}`, mime: kind.mime };
    if (body.language) request.language = body.language.toLowerCase();
    if (body.prompt) request.prompt = body.prompt;
    if (body.temperature !== undefined) request.temperature = Number(body.temperature);
    this.requireRoute(model, format, body.provider);
    return { model, alias, request, format, forced: body.provider, attempts: [] };
  }

  /** srt and vtt need timed segments: a 400 naming the format when no route of the model gives them. */
  private requireRoute(model: CatalogModel, format: TranscriptionFormat, forced: string | undefined): void {
    if (!NEEDS_SEGMENTS.has(format)) return;
    const adapters = model.routes
      .map((r) => this.registry.find(r.provider))
      .filter((p) => p && (forced === undefined || p.name.toLowerCase() === forced.toLowerCase()))
      .map((p) => p!.adapter);
    if (adapters.length === 0 || adapters.some((a) => unsuitable(a, true) === null)) return;
    throw ApiError.badRequest(
      `response_format \`${format}\` needs timed segments, which no route of \`${model.id}\`${forced ? ` on ${forced}` : ''} gives; use json, text or verbose_json.`,
      'response_format',
      'unsupported_value',
    );
  }

  async transcribe(job: TranscriptionJob, signal: AbortSignal): Promise<Transcribed> {
    const segments = NEEDS_SEGMENTS.has(job.format);
    const filter: RouteFilter = (_route, provider) => unsuitable(provider.adapter, segments);
    const run = this.failover.begin(job.model, job.forced, filter);
    const totalMs = this.config.timeouts.totalMs;
    try {
      const { value, lease } = await run.execute(async (l) => {
        const timer = new AbortController();
        const timeout = setTimeout(() => timer.abort(), totalMs);
        try {
          const result = await l.provider.adapter.transcribe!(job.request, l.context(AbortSignal.any([signal, timer.signal])));
          if (segments && !result.segments?.length) throw new UpstreamError('invalid', `transcription answer has no segments for ${job.format}`);
          return result;
        } catch (err) {
          if (timer.signal.aborted && !signal.aborted) throw new UpstreamError('timeout', `no transcript within ${totalMs} ms`);
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
