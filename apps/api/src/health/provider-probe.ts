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
  /**
   * `chat`: a one-token chat to `chatModel` (a model-list read when the provider serves no chat
   * model); `models`: the model list (a one-token chat when the adapter has no list endpoint).
   */
  mode: 'chat' | 'models';
  /** The model for a chat probe: the one configured for this provider, else its cheapest chat model. */
  chatModel: (provider: ProviderState) => ProbeModel | undefined;
  /** Aborts the check (the application is shutting down). */
  signal?: AbortSignal;
  /** Keys with less than this share of a known limit left are not probed (QUOTA_PROBE_MIN_HEADROOM): a check never spends the last of a quota. */
  minHeadroom?: number;
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

/** What one probe sent: its kind and, for a chat, the gateway model it asked. */
interface Sent {
  probe: 'chat' | 'models';
  model: string | null;
}

async function oneTokenChat(provider: ProviderState, ctx: UpstreamContext, model: ProbeModel): Promise<Sent> {
  const req: ChatRequest = { model: model.id, messages: [{ role: 'user', content: 'ping' }], stream: false, params: { max_tokens: 1 }, hasImages: false };
  const events = await lastValueFrom(provider.adapter.chat(req, { ...ctx, upstreamModel: model.upstreamModel }).pipe(toArray()));
  if (events.length === 0) throw new UpstreamError('invalid', 'empty answer to the one-token chat');
  return { probe: 'chat', model: model.id };
}

async function send(provider: ProviderState, ctx: UpstreamContext, options: ProbeOptions, chosen: ProbeModel | undefined): Promise<Sent> {
  const { adapter } = provider;
  if (chosen) return oneTokenChat(provider, ctx, chosen);
  const model = () => options.chatModel(provider);
  if (adapter.listModels) {
    try {
      await adapter.listModels(ctx);
      return { probe: 'models', model: null };
    } catch (raw) {
      const err = asUpstreamError(raw);
      if (!isMissingEndpoint(err) || !model()) throw err;
    }
  }
  const fallback = model();
  if (!fallback) throw new ProbeNotPossible('no model list to read and no catalog model to send a one-token chat to');
  return oneTokenChat(provider, ctx, fallback);
}

/**
 * Probes one provider as users use it: a one-token chat to its cheapest chat model (mode
 * `chat`), or its model list (mode `models`, free on every provider but no proof that inference
 * works). Keys come from the provider's pool; a key problem (401/402/403/429) cools or marks
 * that key exactly as chat does, and the next key is tried.
 *
 * Breaker rules: a probe never opens a closed breaker (it only reports); while the breaker
 * is open-expired (half-open) the probe takes the half-open slot, so a failure reopens it
 * with the next, longer interval; a success closes an open or half-open breaker only when the
 * probe exercised the kind of call whose failures opened it (see CircuitBreaker.closableBy) —
 * a model-list read never closes one that failing chats opened; a failure of a breaker that is
 * still open changes nothing.
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

  // The chat probe's model, when this probe is a chat from the start; a model-list probe asks for one only if it must fall back.
  const model = options.mode === 'chat' || !provider.adapter.listModels ? options.chatModel(provider) : undefined;
  const probeKind: 'chat' | 'models' = model || !provider.adapter.listModels ? 'chat' : 'models';
  const tested = model ? { model: model.id } : {};
  const tried = new Set<PooledKey>();
  const keyProblems: ProbeKeyProblem[] = [];
  const withProblems = () => (keyProblems.length ? { keyProblems } : {});
  let verdict: 'ok' | 'provider-failed' | 'no-verdict' = 'no-verdict';
  let failure: UpstreamError | undefined;
  let okKind: 'chat' | 'models' | null = null;
  try {
    for (;;) {
      const key = provider.keys.acquire(tried, { minHeadroom: options.minHeadroom });
      if (!key) {
        if (keyProblems.length)
          return result(false, probeKind, `every key failed: ${keyProblems.map((k) => `${k.key}: ${k.error}`).join('; ')}`, { ...tested, keyProblems });
        // Keys that could serve but are near a limit: their quota is for clients, and the check says nothing.
        if (provider.keys.hasAvailable(tried))
          return result(false, 'none', 'skipped: no key has enough quota headroom left for a health check', { inconclusive: true });
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
        // A probe is use like any other: counted against the key's quota.
        onResponse: provider.keys.responseObserver(key),
      };
      let sent: Sent;
      try {
        sent = await send(provider, ctx, options, options.mode === 'chat' ? model : undefined);
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
          if (provider.keys.restForCredit(key, err, reason)) {
            // Resting until its credit comes back.
          } else if (err.status === 429) key.breaker.onFailure({ immediate: true, retryAfterMs: err.retryAfterMs, reason });
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
        return result(false, probeKind, reason, { ...tested, key: key.value === undefined ? null : maskKey(key.value), ...withProblems() });
      }
      provider.keys.recordSuccess(key);
      verdict = 'ok';
      okKind = sent.probe;
      const asked = sent.model === null ? {} : { model: sent.model };
      return result(true, sent.probe, null, { ...asked, key: key.value === undefined ? null : maskKey(key.value), ...withProblems() });
    }
  } finally {
    clearTimeout(timer);
    if (verdict === 'ok' && wasOpen && okKind !== null && breaker.closableBy(okKind)) breaker.onSuccess();
    else if (verdict === 'provider-failed' && holdsSlot)
      breaker.onFailure({ retryAfterMs: failure?.retryAfterMs, reason: `health check: ${shortReason(failure!)}`, kind: probeKind });
    else if (holdsSlot) breaker.release();
  }
}
