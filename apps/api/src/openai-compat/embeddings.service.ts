import { Inject, Injectable } from '@nestjs/common';
import type { AttemptSummary, CatalogModel } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { batches, checkVectors } from '../providers/embedding-vectors.ts';
import { UpstreamError, type EmbeddingRequest, type ProviderAdapter, type UpstreamContext } from '../providers/provider-adapter.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';
import { FailoverService, type RouteFilter } from '../routing/failover.service.ts';
import { countTextsTokens } from '../usage/token-counter.ts';
import { MAX_EMBEDDING_INPUTS, type EmbeddingsRequestDto } from './embeddings-request.dto.ts';

/** What a request needs from a route beyond embeddings at all. */
interface Needs {
  tokens: boolean;
  dimensions: boolean;
}

export interface EmbeddingsJob {
  model: CatalogModel;
  /** The alias pattern the requested id matched, null for a catalog id. */
  alias: string | null;
  /** Every input, in order; each upstream call takes a slice of it. */
  request: EmbeddingRequest;
  /** The length every vector must have: the client's `dimensions`, else the model's. */
  dimensions?: number;
  needs: Needs;
  forced?: string;
  attempts: AttemptSummary[];
}

export interface Embedded {
  vectors: number[][];
  promptTokens: number;
  /** True when the tokens were counted here, not by the upstream. */
  estimated: boolean;
  provider: string;
  upstreamModel: string;
}

/** Why a provider cannot take this request, or null. */
function unsuitable(adapter: ProviderAdapter, needs: Needs): string | null {
  if (!adapter.embed || !adapter.embeddings) return 'cannot make embeddings';
  if (needs.tokens && !adapter.embeddings.tokens) return 'cannot take token arrays';
  if (needs.dimensions && !adapter.embeddings.dimensions) return 'cannot set dimensions';
  return null;
}

const isTokenArray = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((n) => Number.isInteger(n) && n >= 0);

/** The input as strings or as token arrays; a 400 naming what is wrong otherwise. */
export function normalizeInput(input: unknown): { input: string[] | number[][]; tokens: boolean } {
  const shape = 'input must be a string, an array of strings, an array of token ids or an array of token-id arrays';
  if (typeof input === 'string') {
    if (input === '') throw ApiError.badRequest('input must not be an empty string', 'input', 'invalid_value');
    return { input: [input], tokens: false };
  }
  if (!Array.isArray(input) || input.length === 0) throw ApiError.badRequest(shape, 'input', 'invalid_type');
  if (input.length > MAX_EMBEDDING_INPUTS) {
    throw ApiError.badRequest(`input has ${input.length} items; at most ${MAX_EMBEDDING_INPUTS} are allowed`, 'input', 'invalid_value');
  }
  if (input.every((v) => typeof v === 'number')) {
    if (!isTokenArray(input)) throw ApiError.badRequest('input: token ids must be whole numbers >= 0', 'input', 'invalid_value');
    return { input: [input], tokens: true };
  }
  if (input.every((v) => typeof v === 'string')) {
    const empty = input.findIndex((v) => v === '');
    if (empty !== -1) throw ApiError.badRequest(`input[${empty}] must not be an empty string`, 'input', 'invalid_value');
    return { input: input as string[], tokens: false };
  }
  const bad = input.findIndex((v) => !isTokenArray(v));
  if (bad !== -1) throw ApiError.badRequest(`input[${bad}]: ${shape}`, 'input', 'invalid_type');
  return { input: input as number[][], tokens: true };
}

/**
 * `/v1/embeddings` over the pool: one failover run; within an attempt the input is split to the
 * route's per-call limit and the calls made in order, so a batch comes from one model only (vectors
 * of two providers' models do not mix). Every answer is checked: one vector per input, each of the
 * expected length.
 */
@Injectable()
export class EmbeddingsService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly failover: FailoverService,
    private readonly registry: ProviderRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  prepare(body: EmbeddingsRequestDto): EmbeddingsJob {
    const { model, alias } = this.catalog.requireResolved(body.model);
    if (model.category !== 'embedding') {
      throw ApiError.badRequest(
        `The model \`${model.id}\` is a ${model.category} model and cannot make embeddings; use an embedding model such as bge-m3.`,
        'model',
        'model_not_supported',
      );
    }
    const { input, tokens } = normalizeInput(body.input);
    const request: EmbeddingRequest = { input };
    if (body.user !== undefined && body.user !== null) request.user = body.user;
    const needs: Needs = { tokens, dimensions: false };
    let dimensions = model.dimensions;
    if (body.dimensions !== undefined && body.dimensions !== null && body.dimensions !== model.dimensions) {
      if (model.dimensions !== undefined && body.dimensions > model.dimensions) {
        throw ApiError.badRequest(
          `dimensions: \`${model.id}\` makes vectors of ${model.dimensions} dimensions; ask for at most that many`,
          'dimensions',
          'invalid_value',
        );
      }
      request.dimensions = dimensions = body.dimensions;
      needs.dimensions = true;
    }
    this.requireRoute(model, needs, body.provider);
    return { model, alias, request, dimensions, needs, forced: body.provider, attempts: [] };
  }

  /** A 400 naming the field when no route of the model could take it at all (not a 503: waiting will not help). */
  private requireRoute(model: CatalogModel, needs: Needs, forced: string | undefined): void {
    const adapters = model.routes
      .map((r) => this.registry.find(r.provider))
      .filter((p) => p && (forced === undefined || p.name.toLowerCase() === forced.toLowerCase()))
      .map((p) => p!.adapter);
    if (adapters.length === 0 || adapters.some((a) => unsuitable(a, needs) === null)) return;
    const field = needs.dimensions && !needs.tokens ? 'dimensions' : 'input';
    const what = field === 'dimensions' ? '`dimensions`' : 'token arrays as `input`';
    throw ApiError.badRequest(`No route of \`${model.id}\` takes ${what}; send text, or leave dimensions out.`, field, 'unsupported_parameter');
  }

  async embed(job: EmbeddingsJob, signal: AbortSignal): Promise<Embedded> {
    const filter: RouteFilter = (_route, provider) => unsuitable(provider.adapter, job.needs);
    const run = this.failover.begin(job.model, job.forced, filter);
    try {
      const { value, lease } = await run.execute((l) => this.attempt(job, l.provider.adapter, (s) => l.context(s), signal));
      lease.noteUsage({ prompt_tokens: value.promptTokens, completion_tokens: 0, total_tokens: value.promptTokens });
      return { ...value, provider: lease.provider.name, upstreamModel: lease.upstreamModel };
    } finally {
      job.attempts.push(...run.attempts);
    }
  }

  /** One route: every batch in order within one deadline; any failure fails the whole attempt. */
  private async attempt(job: EmbeddingsJob, adapter: ProviderAdapter, context: (signal: AbortSignal) => UpstreamContext, signal: AbortSignal) {
    const totalMs = this.config.timeouts.totalMs;
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(), totalMs);
    const ctx = context(AbortSignal.any([signal, timer.signal]));
    const vectors: number[][] = [];
    let upstreamTokens: number | undefined = 0;
    try {
      for (const input of batches<string | number[]>(job.request.input, adapter.embeddings!.batchLimit)) {
        const part = await adapter.embed!({ ...job.request, input: input as string[] | number[][] }, ctx);
        checkVectors(part.vectors, input.length, job.dimensions);
        vectors.push(...part.vectors);
        upstreamTokens = part.promptTokens === undefined || upstreamTokens === undefined ? undefined : upstreamTokens + part.promptTokens;
      }
    } catch (err) {
      if (timer.signal.aborted && !signal.aborted) throw new UpstreamError('timeout', `no embeddings within ${totalMs} ms`);
      throw err;
    } finally {
      clearTimeout(timeout);
    }
    if (upstreamTokens !== undefined) return { vectors, promptTokens: upstreamTokens, estimated: false };
    return { vectors, promptTokens: countInputTokens(job.request.input), estimated: true };
  }
}

/** Token arrays count themselves; text is counted by the gateway's tokenizer. */
function countInputTokens(input: string[] | number[][]): number {
  return input.every((v) => Array.isArray(v)) ? (input as number[][]).reduce((n, t) => n + t.length, 0) : countTextsTokens(input as string[]);
}
