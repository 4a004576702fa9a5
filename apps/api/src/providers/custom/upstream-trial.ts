import { lastValueFrom, toArray } from 'rxjs';
import type { KeySource, UpstreamKeyTrial, UpstreamModelsResult, UpstreamTestResult, UpstreamTrialOutcome } from '#contracts';
import { maskSecret, scrubSecrets } from '../../common/redact.ts';
import { MAX_ERROR_CHARS, truncate } from '../../events/record-bounds.ts';
import { maskKey } from '../key-pool.ts';
import { OpenAICompatibleAdapter } from '../openai-compatible/openai-compatible.adapter.ts';
import type { ChatRequest, UpstreamContext } from '../provider-adapter.ts';
import { UpstreamError, attemptCode, shortReason } from '../upstream-errors.ts';
import type { UpstreamHttp } from '../upstream-http.ts';

/**
 * The console's 读取模型列表 and 测试 for an operator-defined upstream, saved or still in the form:
 * the same OpenAI-compatible adapter the registry builds for it, so the same bounded bodies,
 * timeouts, proxy and HTML detection apply, with keys only the caller chose to send there.
 */

/** A key to try: typed in the form (`entered`), or one the saved upstream has for this host. */
export interface TrialKey {
  value: string;
  source: 'entered' | KeySource;
}

/** Where to send the trial and with which keys (the caller decides which keys may go there). */
export interface TrialTarget {
  baseUrl: string;
  proxy?: string;
  keys: TrialKey[];
}

/** One trial call gives up after this long, whatever the upstream trickles (the key test's bound). */
export const TRIAL_TIMEOUT_MS = 15_000;
/** A model list may be huge (OpenRouter lists hundreds): at most this many ids are answered. */
export const MAX_LISTED_MODELS = 2000;
const MAX_MODEL_ID_CHARS = 200;
/** At most this many keys are tried at once by 测试 (the rest are not tried). */
export const MAX_TRIAL_KEYS = 20;

function trialAdapter(baseUrl: string): OpenAICompatibleAdapter {
  return new OpenAICompatibleAdapter({ id: 'upstream-trial', name: 'upstream-trial', defaultBaseUrl: baseUrl, requiresKey: false });
}

function context(target: TrialTarget, key: string | undefined, http: UpstreamHttp, signal: AbortSignal): UpstreamContext {
  return { upstreamModel: '', baseUrl: target.baseUrl, apiKey: key, extra: {}, signal, http, proxy: target.proxy };
}

/**
 * Why a trial failed, as the request log says it. A typed key is in no scrubber (it is not
 * saved), so every tried key is masked in the text here as well.
 */
function failed(raw: unknown, startedAt: number, timedOut: boolean, keys: readonly TrialKey[]): UpstreamTrialOutcome {
  let err = raw instanceof UpstreamError ? raw : new UpstreamError('invalid', raw instanceof Error ? raw.message : String(raw));
  if (timedOut) err = new UpstreamError('timeout', `no answer within ${TRIAL_TIMEOUT_MS} ms`);
  let text = shortReason(err, MAX_ERROR_CHARS);
  for (const k of keys) if (k.value.length >= 4) text = text.split(k.value).join(maskSecret(k.value));
  return {
    ok: false,
    status: err.kind === 'http' ? (err.status ?? null) : null,
    latencyMs: Math.round(performance.now() - startedAt),
    code: attemptCode(err),
    error: truncate(scrubSecrets(text), MAX_ERROR_CHARS),
  };
}

/** Runs `call` under the trial's deadline; its outcome, never a throw. */
async function timed<T>(call: (signal: AbortSignal) => Promise<T>, keys: readonly TrialKey[]): Promise<{ outcome: UpstreamTrialOutcome; value?: T }> {
  const startedAt = performance.now();
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), TRIAL_TIMEOUT_MS);
  try {
    const value = await call(deadline.signal);
    return { outcome: { ok: true, status: 200, latencyMs: Math.round(performance.now() - startedAt), code: null, error: null }, value };
  } catch (err) {
    return { outcome: failed(err, startedAt, deadline.signal.aborted, keys) };
  } finally {
    clearTimeout(timer);
  }
}

/** The listed ids in the upstream's order: duplicates, empty and overlong ids dropped, at most MAX_LISTED_MODELS. */
export function listedIds(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const raw of ids) {
    const id = raw.trim();
    if (id && id.length <= MAX_MODEL_ID_CHARS) seen.add(id);
    if (seen.size >= MAX_LISTED_MODELS) break;
  }
  return [...seen];
}

/** Reads the upstream's `/models` with its first key (the typed one when there is one). */
export async function readUpstreamModels(target: TrialTarget, http: UpstreamHttp): Promise<UpstreamModelsResult> {
  const key = target.keys[0];
  const adapter = trialAdapter(target.baseUrl);
  const { outcome, value } = await timed((signal) => adapter.listModels(context(target, key?.value, http, signal)), target.keys);
  const ids = value?.map((m) => m.id) ?? [];
  return { ...outcome, key: key ? maskKey(key.value) : null, models: listedIds(ids), total: ids.length };
}

/** A one-token chat with every key (at most MAX_TRIAL_KEYS, side by side); one without a key when there is none. */
export async function testUpstreamKeys(target: TrialTarget, model: string, http: UpstreamHttp): Promise<UpstreamTestResult> {
  const adapter = trialAdapter(target.baseUrl);
  const req: ChatRequest = { model, messages: [{ role: 'user', content: 'ping' }], stream: false, params: { max_tokens: 1 }, hasImages: false };
  const oneKey = async (key: TrialKey | undefined): Promise<UpstreamKeyTrial> => {
    const { outcome } = await timed(async (signal) => {
      const events = await lastValueFrom(adapter.chat(req, { ...context(target, key?.value, http, signal), upstreamModel: model }).pipe(toArray()));
      if (events.length === 0) throw new UpstreamError('invalid', 'empty answer to the one-token chat');
    }, target.keys);
    return { key: maskKey(key?.value), source: key?.source ?? 'none', ...outcome };
  };
  const keys = target.keys.length ? target.keys.slice(0, MAX_TRIAL_KEYS) : [undefined];
  return { model, results: await Promise.all(keys.map(oneKey)) };
}
