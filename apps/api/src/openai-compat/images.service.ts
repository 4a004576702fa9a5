import { randomInt } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AttemptSummary, CatalogModel, ImageData, ImagesResponse } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { ImageStore } from '../media/image-store.ts';
import type { ModelFilter } from '../models/auto-models.ts';
import { AutoModelsService } from '../models/auto-models.service.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { materializeImage, type ImageBytes } from '../providers/media-response.ts';
import { UpstreamError, type ImageRequest } from '../providers/provider-adapter.ts';
import type { ProviderState } from '../providers/provider-registry.service.ts';
import { FailoverService, type Lease, type RouteFilter } from '../routing/failover.service.ts';
import { modelNotAllowed } from './api-key.guard.ts';
import { nowSeconds } from './client-call.ts';
import { DEFAULT_IMAGE_MODEL, DEFAULT_IMAGE_SIZE, parseImageSize, type ImageGenerationRequestDto } from './image-request.dto.ts';

/** OpenAI's `Image` object and answer, as this gateway fills them (shared with the console). */
export type { ImageData, ImagesResponse } from '#contracts';

/** Who produced the images: usually one provider; more when a later call had to fail over. */
export interface ServedBy {
  provider: string;
  upstreamModel: string;
}

export interface ImagesJob {
  model: CatalogModel;
  /** The alias pattern the requested id matched, null for a catalog id. */
  alias: string | null;
  n: number;
  /** Every attempt of every call, filled in as they finish. */
  attempts: AttemptSummary[];
  /** For `auto-image`: the models to move to, in order, when every route of `model` failed on the first call. */
  fallbacks: CatalogModel[];
}

export interface GeneratedImages {
  images: ImageBytes[];
  revisedPrompt?: string;
  servedBy: ServedBy[];
}

interface CallResult {
  images: ImageBytes[];
  revisedPrompt?: string;
  provider: ProviderState;
  upstreamModel: string;
}

/** Follow-up calls that run at once when a provider makes fewer images per call than asked. */
const MAX_PARALLEL_CALLS = 4;

/** Client fields the gateway consumes itself; the rest is offered to adapters as params. */
const GATEWAY_FIELDS = new Set(['model', 'prompt', 'n', 'size', 'seed', 'provider']);

const canMakeImages: RouteFilter = (_route, provider) => (provider.adapter.image ? null : 'cannot generate images');

/**
 * `/v1/images/generations` over the pool. A request for n images starts with one failover run
 * asking for all n; a provider that makes fewer per call (most make one) is called again for
 * the rest, each follow-up its own failover run that tries the provider that answered first
 * before the others. See docs/api.md "图片生成" for the rules in words.
 */
@Injectable()
export class ImagesService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly failover: FailoverService,
    private readonly store: ImageStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly autoModels: AutoModelsService,
  ) {}

  /** Resolves and checks what the router needs; throws ApiError for the 4xx cases. `allowed`: the client key's models, all `auto-image` may pick. */
  prepare(body: ImageGenerationRequestDto, allowed?: ModelFilter): ImagesJob {
    const id = body.model ?? DEFAULT_IMAGE_MODEL;
    // `auto-image`: the best image model that can serve now, the others as fallbacks.
    const choice = this.autoModels.choose(id, { features: [], images: false, tokens: 0, provider: body.provider, allowed });
    const { model, alias } = choice ? { model: choice.models[0]!, alias: choice.auto.id } : this.catalog.requireResolved(id);
    // The guard checked the model a request names; the default one, named by none, is checked here.
    if (!choice && body.model === undefined && allowed && !allowed(model)) throw modelNotAllowed(id);
    if (model.category !== 'image') {
      throw ApiError.badRequest(
        `The model \`${model.id}\` is a ${model.category} model and cannot generate images; use one of the image models listed in /v1/models.`,
        'model',
        'model_not_supported',
      );
    }
    return { model, alias, n: body.n ?? 1, attempts: [], fallbacks: choice?.models.slice(1) ?? [] };
  }

  /** Makes all n images (or fails with every attempt listed). */
  async generate(job: ImagesJob, body: ImageGenerationRequestDto, signal: AbortSignal): Promise<GeneratedImages> {
    const { width, height } = parseImageSize(body.size ?? DEFAULT_IMAGE_SIZE)!;
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) if (!GATEWAY_FIELDS.has(k) && v !== undefined && v !== null) params[k] = v;
    // Providers that make one image per call answer the same prompt and seed with the same
    // image, so n > 1 gets a distinct seed per image (consecutive from the client's seed).
    const baseSeed = body.seed ?? (job.n > 1 ? randomInt(0, 2 ** 31 - 16) : undefined);
    const requestFor = (offset: number, count: number): ImageRequest => ({
      prompt: body.prompt,
      n: count,
      width,
      height,
      seed: baseSeed === undefined ? undefined : baseSeed + offset,
      params,
    });

    const first = await this.firstCall(job, body.provider, requestFor(0, job.n), signal);
    const images = first.images.slice(0, job.n);
    const servedBy: ServedBy[] = [{ provider: first.provider.name, upstreamModel: first.upstreamModel }];
    const perCall = Math.max(1, first.images.length);

    while (images.length < job.n) {
      // The next round: what is missing, in calls of the size the provider made last time.
      const sizes: number[] = [];
      for (let left = job.n - images.length; left > 0 && sizes.length < MAX_PARALLEL_CALLS; left -= perCall) sizes.push(Math.min(perCall, left));
      let offset = images.length;
      const requests = sizes.map((size) => {
        const req = requestFor(offset, size);
        offset += size;
        return req;
      });
      const results = await this.round(job, body.provider, first.provider, requests, signal);
      for (const r of results) {
        images.push(...r.images.slice(0, job.n - images.length));
        if (!servedBy.some((s) => s.provider === r.provider.name)) servedBy.push({ provider: r.provider.name, upstreamModel: r.upstreamModel });
      }
    }
    return first.revisedPrompt === undefined ? { images, servedBy } : { images, servedBy, revisedPrompt: first.revisedPrompt };
  }

  /** Builds OpenAI's answer: the images as base64, or saved under DATA_DIR and linked from `baseUrl`. */
  async respond(generated: GeneratedImages, format: 'url' | 'b64_json', baseUrl: string): Promise<ImagesResponse> {
    const extra = generated.revisedPrompt === undefined ? {} : { revised_prompt: generated.revisedPrompt };
    const data: ImageData[] = [];
    for (const image of generated.images) {
      if (format === 'b64_json') data.push({ b64_json: image.data.toString('base64'), ...extra });
      else data.push({ url: `${baseUrl}/v1/images/files/${await this.store.save(image.data, image.mime)}`, ...extra });
    }
    return { created: nowSeconds(), data };
  }

  /** Follow-up calls at once; when one fails everywhere the others are stopped and the request fails. */
  private async round(job: ImagesJob, forced: string | undefined, preferred: ProviderState, requests: ImageRequest[], signal: AbortSignal) {
    const stop = new AbortController();
    const both = AbortSignal.any([signal, stop.signal]);
    const settled = await Promise.allSettled(
      requests.map((req) =>
        this.call(job, forced, preferred, req, both).catch((err: unknown) => {
          stop.abort();
          throw err;
        }),
      ),
    );
    const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    if (failures.length) {
      // The call that failed on its own, not one stopped because of it.
      throw failures.find((e) => !(e instanceof UpstreamError && e.kind === 'aborted')) ?? failures[0];
    }
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }

  /**
   * The first call. For `auto-image`, a model none of whose routes could answer gives way to the
   * next one (the job then names the model that served); later calls stay with that model.
   */
  private async firstCall(job: ImagesJob, forced: string | undefined, req: ImageRequest, signal: AbortSignal): Promise<CallResult> {
    for (;;) {
      try {
        return await this.call(job, forced, undefined, req, signal);
      } catch (err) {
        const next = err instanceof ApiError && !signal.aborted ? job.fallbacks.shift() : undefined;
        if (!next) throw err;
        job.model = next;
      }
    }
  }

  /** One upstream call with its own failover run; `preferred` goes first when it is a candidate. */
  private async call(
    job: ImagesJob,
    forced: string | undefined,
    preferred: ProviderState | undefined,
    req: ImageRequest,
    signal: AbortSignal,
  ): Promise<CallResult> {
    const run = this.failover.begin(job.model, forced, canMakeImages);
    if (preferred) {
      // Keeps one provider for the whole answer while it is healthy; the others stay as fallbacks.
      const at = run.candidates.findIndex((c) => c.provider === preferred);
      if (at > 0) run.candidates.unshift(...run.candidates.splice(at, 1));
    }
    const seen = job.attempts.length;
    try {
      const { value, lease } = await run.execute((l) => this.attempt(l, req, signal));
      return { ...value, provider: lease.provider, upstreamModel: lease.upstreamModel };
    } catch (err) {
      // The failure lists this call's attempts; the request log gets all of them.
      if (err instanceof ApiError && seen > 0) {
        throw new ApiError(err.status, err.message, err.type, err.code, err.param, [...job.attempts.slice(0, seen), ...run.attempts], err.headers);
      }
      throw err;
    } finally {
      job.attempts.push(...run.attempts);
    }
  }

  /** One try on one provider: generate, then turn URLs into bytes, all within the total timeout. */
  private async attempt(lease: Lease, req: ImageRequest, signal: AbortSignal): Promise<{ images: ImageBytes[]; revisedPrompt?: string }> {
    const totalMs = this.config.timeouts.totalMs;
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(), totalMs);
    const ctx = lease.context(AbortSignal.any([signal, timer.signal]));
    try {
      const result = await lease.provider.adapter.image!(req, ctx);
      if (result.images.length === 0) throw new UpstreamError('invalid', 'the upstream answered without any image');
      const images = await Promise.all(result.images.slice(0, req.n).map((image) => materializeImage(image, ctx)));
      return result.revisedPrompt === undefined ? { images } : { images, revisedPrompt: result.revisedPrompt };
    } catch (err) {
      if (timer.signal.aborted && !signal.aborted) throw new UpstreamError('timeout', `no image within ${totalMs} ms`);
      throw err;
    } finally {
      clearTimeout(timeout);
    }
  }
}
