import { lastValueFrom, toArray } from 'rxjs';
import { maskKey, type PooledKey } from '../providers/key-pool.ts';
import { UpstreamError, shortReason, type ChatRequest, type UpstreamContext } from '../providers/provider-adapter.ts';
import type { ProviderState } from '../providers/provider-registry.service.ts';
import type { UpstreamHttp } from '../providers/upstream-http.ts';
import { MAX_ERROR_CHARS, truncate } from '../events/record-bounds.ts';
import type { ProbeKeyProblem, ProbeKind, ProviderCheck } from '#contracts';

export type { ProbeKind, ProbeKeyProblem, ProviderCheck };

/** A gateway model and the id this provider knows it by, for the chat probe. */
export interface ProbeModel {
  id: string;
  upstreamModel: string;
}

export interface ProbeOptions {
  http: UpstreamHttp;
  /** The whole check (every key tried) gives up after this long. */
  timeoutMs: number;
  /** Cooldown of a key that answered 401/402/403 (config.breaker.authCooldownMs), as chat uses. */
  authCooldownMs: number;
  /** The model for a chat probe (adapters without a model list, or whose list endpoint is missing). */
  chatModel: (provider: ProviderState) => ProbeModel | undefined;
  /** Aborts the check (the application is shutting down). */
  signal?: AbortSignal;
}

/** The probe could not be sent at all; says nothing about the provider's health. */
class ProbeNotPossible extends Error {}

/** A models endpoint that does not exist (many OpenAI-compatible servers only do chat). */
const isMissingEndpoint = (err: UpstreamError) => err.kind === 'http' && (err.status === 404 || err.status === 405 || err.status === 501);

/** A 4xx other than timeouts and conflicts says more about the probe than about the provider (as in Lease.fail). */
const isClientSide = (err: UpstreamError) =>
  err.kind === 'http' && err.status !== undefined && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 409;

function asUpstreamError(raw: unknown): UpstreamError {
  return raw instanceof UpstreamError ? raw : new UpstreamError('invalid', raw instanceof Error ? raw.message : String(raw));
}

async function send(provider: ProviderState, ctx: UpstreamContext, options: ProbeOptions): Promise<ProbeKind> {
  const { adapter } = provider;
  if (adapter.listModels) {
    try {
      await adapter.listModels(ctx);
      return 'models';
    } catch (raw) {
      const err = asUpstreamError(raw);
      if (!isMissingEndpoint(err) || !options.chatModel(provider)) throw err;
    }
  }
  const model = options.chatModel(provider);
  if (!model) throw new ProbeNotPossible('no model list to read and no catalog model to send a one-token chat to');
  const req: ChatRequest = { model: model.id, messages: [{ role: 'user', content: 'ping' }], stream: false, params: { max_tokens: 1 }, hasImages: false };
  const events = await lastValueFrom(adapter.chat(req, { ...ctx, upstreamModel: model.upstreamModel }).pipe(toArray()));
  if (events.length === 0) throw new UpstreamError('invalid', 'empty answer to the one-token chat');
  return 'chat';
}

/**
 * Probes one provider cheaply: its model list when the adapter has one (free on every
 * provider), otherwise a one-token chat. Keys come from the provider's pool; a key problem
 * (401/402/403/429) cools or marks that key exactly as chat does, and the next key is tried.
 *
 * Breaker rules: a probe never opens a closed breaker (it only reports); while the breaker
 * is open-expired (half-open) the probe takes the half-open slot, so a failure reopens it
 * with the next, longer interval, and a success closes it; a success closes a breaker that
 * is still open early; a failure of a breaker that is still open changes nothing.
 */
export async function probeProvider(provider: ProviderState, options: ProbeOptions): Promise<ProviderCheck> {
  const checkedAt = Date.now();
  const t0 = performance.now();
  const result = (ok: boolean, probe: ProbeKind, error: string | null, extra: Partial<ProviderCheck> = {}): ProviderCheck => ({
    provider: provider.name,
    ok,
    latencyMs: Math.round(performance.now() - t0),
    checkedAt,
    // An upstream's error text can be anything, of any size; it is stored and shown in the console.
    error: error === null ? null : truncate(error, MAX_ERROR_CHARS),
    probe,
    ...extra,
  });

  const missing = provider.missingConfig();
  if (missing) return result(false, 'none', `not configured: ${missing}`, { inconclusive: true });

  const { breaker } = provider;
  const wasOpen = breaker.snapshot().state !== 'closed';
  const holdsSlot = wasOpen && breaker.isAvailable() && breaker.tryAcquire();

  const local = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    local.abort();
  }, options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, local.signal]) : local.signal;

  const probeKind: ProbeKind = provider.adapter.listModels ? 'models' : 'chat';
  const tried = new Set<PooledKey>();
  const keyProblems: ProbeKeyProblem[] = [];
  const withProblems = () => (keyProblems.length ? { keyProblems } : {});
  let verdict: 'ok' | 'provider-failed' | 'no-verdict' = 'no-verdict';
  let failure: UpstreamError | undefined;
  try {
    for (;;) {
      const key = provider.keys.acquire(tried);
      if (!key) {
        if (keyProblems.length)
          return result(false, probeKind, `every key failed: ${keyProblems.map((k) => `${k.key}: ${k.error}`).join('; ')}`, { keyProblems });
        return result(false, 'none', 'no usable key: every key is cooling down or invalid');
      }
      tried.add(key);
      const ctx: UpstreamContext = {
        upstreamModel: '',
        baseUrl: provider.baseUrl,
        apiKey: key.value,
        extra: provider.extra,
        signal,
        http: options.http,
        proxy: provider.proxy,
      };
      let probe: ProbeKind;
      try {
        probe = await send(provider, ctx, options);
      } catch (raw) {
        if (raw instanceof ProbeNotPossible) {
          key.breaker.release();
          return result(false, 'none', raw.message, { inconclusive: true });
        }
        let err = asUpstreamError(raw);
        if (timedOut) err = new UpstreamError('timeout', `health check timed out after ${options.timeoutMs} ms`);
        if (err.kind === 'aborted') {
          key.breaker.release();
          return result(false, probeKind, 'aborted: the application is shutting down', { ...withProblems(), inconclusive: true });
        }
        const reason = shortReason(err);
        if (err.isKeyProblem) {
          // The key is at fault, not the provider: the same treatment as in Lease.fail.
          if (err.status === 429) key.breaker.onFailure({ immediate: true, retryAfterMs: err.retryAfterMs, reason });
          else {
            key.breaker.onFailure({ immediate: true, cooldownMs: options.authCooldownMs, reason });
            provider.keys.recordAuthFailure(key);
          }
          keyProblems.push({ key: maskKey(key.value), status: err.status ?? null, error: truncate(reason, MAX_ERROR_CHARS) });
          continue;
        }
        key.breaker.release();
        if (!isClientSide(err)) {
          verdict = 'provider-failed';
          failure = err;
        }
        return result(false, probeKind, reason, { key: key.value === undefined ? null : maskKey(key.value), ...withProblems() });
      }
      provider.keys.recordSuccess(key);
      verdict = 'ok';
      return result(true, probe, null, { key: key.value === undefined ? null : maskKey(key.value), ...withProblems() });
    }
  } finally {
    clearTimeout(timer);
    if (verdict === 'ok' && wasOpen) breaker.onSuccess();
    else if (verdict === 'provider-failed' && holdsSlot)
      breaker.onFailure({ retryAfterMs: failure?.retryAfterMs, reason: `health check: ${shortReason(failure!)}` });
    else if (holdsSlot) breaker.release();
  }
}
