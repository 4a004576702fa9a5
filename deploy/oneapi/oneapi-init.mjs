// Creates (or refreshes) GPT4Free Pool's channel in one-api, once both are up: the `oneapi-init`
// service of docker-compose.oneapi.yml runs it with plain Node (no dependencies).
//
// It uses one-api's admin API (router/api.go, controller/channel.go of songquanpeng/one-api v0.6.x):
// every /api/channel call carries `Authorization: Bearer <root access token>`, the token one-api
// gives its root user at first start when INITIAL_ROOT_ACCESS_TOKEN is set. one-api answers
// errors with HTTP 200 and `success: false`, so every answer's `success` is checked.
//
// Idempotent: a channel with the same name is updated (its model list, base URL and key), never
// created twice, so re-running it after the pool gained models is how they reach one-api.
//
// Settings (environment):
//   ONEAPI_URL            one-api's address              default http://one-api:3000
//   ONEAPI_ACCESS_TOKEN   the root user's access token   required
//   POOL_URL              the pool as one-api reaches it default http://freeapi-pool:8080 (the channel's base URL, no /v1)
//   POOL_KEY              the key the channel sends      required (FREEAPI_KEY)
//   CHANNEL_NAME          the channel's name             default gpt4free-pool
//   INIT_TIMEOUT_SECONDS  how long to wait for one-api   default 120

/** one-api's channel type for an OpenAI-compatible upstream (relay/channeltype/define.go: OpenAI = 1). */
const CHANNEL_TYPE_OPENAI = 1;
/** Bounds on what is read from either side: a misbehaving peer cannot make this hold much. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const MAX_MODELS = 2000;
const MODEL_ID = /^[A-Za-z0-9][\w.:/@+-]{0,199}$/;
const REQUEST_TIMEOUT_MS = 10_000;

class InitError extends Error {}

function settings(env) {
  const need = (name) => {
    const value = env[name]?.trim();
    if (!value) throw new InitError(`${name} is not set`);
    return value;
  };
  const url = (name, fallback) => {
    const value = (env[name]?.trim() || fallback).replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+/.test(value)) throw new InitError(`${name} must be an http(s) URL, got "${value.slice(0, 100)}"`);
    return value;
  };
  const timeout = Number(env.INIT_TIMEOUT_SECONDS?.trim() || 120);
  if (!(timeout > 0 && timeout <= 3600)) throw new InitError('INIT_TIMEOUT_SECONDS must be between 1 and 3600');
  return {
    oneApi: url('ONEAPI_URL', 'http://one-api:3000'),
    token: need('ONEAPI_ACCESS_TOKEN'),
    pool: url('POOL_URL', 'http://freeapi-pool:8080'),
    poolKey: need('POOL_KEY'),
    name: (env.CHANNEL_NAME?.trim() || 'gpt4free-pool').slice(0, 100),
    timeoutMs: timeout * 1000,
  };
}

/** A JSON answer, its body bounded; throws InitError on a non-2xx status or a body that is not JSON. */
async function requestJson(url, init = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), redirect: 'error' });
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_BODY_BYTES) throw new InitError(`${url}: answer of ${length} bytes, more than ${MAX_BODY_BYTES}`);
  const text = Buffer.from(await res.arrayBuffer());
  if (text.length > MAX_BODY_BYTES) throw new InitError(`${url}: answer of more than ${MAX_BODY_BYTES} bytes`);
  if (!res.ok) throw new InitError(`${url}: HTTP ${res.status} ${text.toString('utf8', 0, 300)}`);
  try {
    return JSON.parse(text.toString('utf8'));
  } catch {
    throw new InitError(`${url}: the answer is not JSON`);
  }
}

/** one-api's admin API: Bearer access token, JSON in and out, `success` checked. */
async function oneApi(s, method, path, body) {
  const answer = await requestJson(`${s.oneApi}${path}`, {
    method,
    headers: { authorization: `Bearer ${s.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (answer?.success !== true) throw new InitError(`one-api ${method} ${path}: ${String(answer?.message ?? 'no success').slice(0, 300)}`);
  return answer.data;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until one-api's public /api/status says success (it is up and migrated its database). */
async function waitForOneApi(s) {
  const deadline = Date.now() + s.timeoutMs;
  let last;
  for (;;) {
    try {
      const status = await requestJson(`${s.oneApi}/api/status`);
      if (status?.success === true) return;
      last = 'success is not true';
    } catch (err) {
      // fetch's own message is just "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND...).
      last = err?.cause?.code ?? err?.cause?.message ?? (err instanceof Error ? err.message : String(err));
    }
    if (Date.now() >= deadline) throw new InitError(`one-api at ${s.oneApi} is not up after ${s.timeoutMs / 1000} s (${last})`);
    await sleep(1000);
  }
}

/** The model ids the pool lists at /v1/models, as one-api's comma-separated `models` field. */
async function poolModels(s) {
  const list = await requestJson(`${s.pool}/v1/models`, { headers: { authorization: `Bearer ${s.poolKey}` } });
  const ids = Array.isArray(list?.data) ? list.data.map((m) => m?.id).filter((id) => typeof id === 'string' && MODEL_ID.test(id)) : [];
  const unique = [...new Set(ids)].slice(0, MAX_MODELS);
  if (!unique.length) throw new InitError(`the pool at ${s.pool} lists no models at /v1/models`);
  return unique.join(',');
}

/** The channel with exactly this name, if there is one (one-api's search matches name prefixes and ids). */
async function findChannel(s) {
  const found = await oneApi(s, 'GET', `/api/channel/search?keyword=${encodeURIComponent(s.name)}`);
  return (Array.isArray(found) ? found : []).find((c) => c?.name === s.name && Number.isInteger(c?.id));
}

async function run(env, log) {
  const s = settings(env);
  await waitForOneApi(s);
  const models = await poolModels(s);
  const channel = { name: s.name, type: CHANNEL_TYPE_OPENAI, key: s.poolKey, base_url: s.pool, models, group: 'default' };
  const existing = await findChannel(s);
  const count = models.split(',').length;
  if (existing) {
    await oneApi(s, 'PUT', '/api/channel/', { ...channel, id: existing.id });
    log(`one-api channel "${s.name}" (id ${existing.id}) updated: ${count} models from ${s.pool}`);
  } else {
    await oneApi(s, 'POST', '/api/channel/', channel);
    log(`one-api channel "${s.name}" created: ${count} models from ${s.pool}`);
  }
}

run(process.env, console.log).catch((err) => {
  console.error(`oneapi-init: ${err instanceof InitError ? err.message : (err?.stack ?? String(err))}`);
  process.exit(1);
});
