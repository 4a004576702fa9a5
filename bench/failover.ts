// The failover scorecard: `npm run bench:failover` (builds dist/ first). See bench/README.md.
//
// The built gateway in front of the in-repo emulator, a primary (DeepInfra) and a fallback
// (Together) for one model, and one streaming request per scenario of a fault wall: 429s,
// 5xx, resets, silence, slow first tokens, cuts, garbage, verdicts, a flapping primary. Each
// scenario runs on a fresh gateway (fresh breakers) and ends as a complete answer or a clean,
// bounded error; anything else is "broken". Writes bench/FAILOVER.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { controlEmulator, freePort, OUT_DIR, ROOT, startEmulatorProcess, startGatewayProcess, type Child } from './processes.ts';

const MODEL = 'llama-3.3-70b';
const USER_TEXT = 'tell me about failover';
const FIRST_BYTE_MS = 2000;
/** Longer than any scenario may take: past it the request counts as hung. */
const REQUEST_DEADLINE_MS = 30_000;

type Fault = Record<string, unknown> & { provider: 'deepinfra' | 'together'; mode: string };
/** What the emulator does with a trailing assistant message (a prefill), per provider: see test/emulators/types.ts. */
type Prefill = Partial<Record<'deepinfra' | 'together', 'ignore' | 'continue' | 'reject'>>;

/** Stream resumption on, Together declared to take prefill: the resumption scenarios' gateway. */
const RESUME_ENV = { STREAM_RESUME: 'true', STREAM_RESUME_PROVIDERS: 'Together' };

interface Outcome {
  /** complete: content and a normal end; clean error: an HTTP error or an error event, bounded; broken: anything else. */
  verdict: 'complete' | 'clean error' | 'broken';
  detail: string;
  primary: number;
  fallback: number;
  totalMs: number;
  ttftMs: number | null;
}

interface Scenario {
  name: string;
  /** What a good gateway does, in words, for the table. */
  expected: string;
  faults: Fault[];
  env?: Record<string, string>;
  prefill?: Prefill;
  /** Another model than MODEL (the context-length reroute). */
  model?: string;
  /** Runs instead of the single request (the flapping primary). */
  drive?: (gateway: string, emulator: string) => Promise<Outcome>;
}

const SCENARIOS: Scenario[] = [
  {
    name: '429 with Retry-After: 1',
    expected: 'fallback answers at once',
    faults: [{ provider: 'deepinfra', mode: 'status', status: 429, retryAfter: 1, times: 1 }],
  },
  { name: '429 without Retry-After', expected: 'fallback answers', faults: [{ provider: 'deepinfra', mode: 'status', status: 429, times: 1 }] },
  {
    name: '429 with Retry-After: 1, no fallback ready',
    expected: 'waited out, primary answers',
    faults: [{ provider: 'deepinfra', mode: 'status', status: 429, retryAfter: 1, times: 1 }],
    env: { TOGETHER_ENABLED: 'false' },
  },
  { name: '500 once', expected: 'fallback answers', faults: [{ provider: 'deepinfra', mode: 'status', status: 500, times: 1 }] },
  {
    name: '500 once, no fallback ready',
    expected: 'retried once, primary answers',
    faults: [{ provider: 'deepinfra', mode: 'status', status: 500, times: 1 }],
    env: { TOGETHER_ENABLED: 'false' },
  },
  { name: '503 persistent', expected: 'fallback answers', faults: [{ provider: 'deepinfra', mode: 'status', status: 503 }] },
  { name: 'reset before headers', expected: 'fallback answers', faults: [{ provider: 'deepinfra', mode: 'reset', times: 1 }] },
  { name: 'no response', expected: 'fallback after the first-byte timeout', faults: [{ provider: 'deepinfra', mode: 'hang', times: 1 }] },
  {
    name: 'slow first byte (beyond the timeout)',
    expected: 'fallback after the first-byte timeout',
    faults: [{ provider: 'deepinfra', mode: 'slowFirstByte', delayMs: FIRST_BYTE_MS * 2, times: 1 }],
  },
  {
    name: 'keep-alive comments, no content',
    expected: 'fallback after the first-token deadline',
    faults: [{ provider: 'deepinfra', mode: 'commentOnly', times: 1 }],
  },
  {
    name: 'stream cut after content',
    expected: 'clean error event, no mixed text',
    faults: [{ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 }],
  },
  {
    name: 'no [DONE] after the finish chunk',
    expected: 'primary completes, its finish stands',
    faults: [{ provider: 'deepinfra', mode: 'noDone', times: 1 }],
  },
  {
    name: 'stream stall after content',
    expected: 'clean error event after the idle timeout',
    faults: [{ provider: 'deepinfra', mode: 'midStreamStall', afterChunks: 2, times: 1 }],
  },
  {
    name: 'stream cut after content, STREAM_RESUME',
    expected: 'resumed on the fallback: one answer, prefix + continuation',
    faults: [{ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 }],
    env: RESUME_ENV,
    prefill: { together: 'continue' },
  },
  {
    name: 'stream stall after content, STREAM_RESUME',
    expected: 'resumed on the fallback after the idle timeout',
    faults: [{ provider: 'deepinfra', mode: 'midStreamStall', afterChunks: 2, times: 1 }],
    env: RESUME_ENV,
    prefill: { together: 'continue' },
  },
  {
    name: 'fallback that rejects prefill, STREAM_RESUME',
    expected: 'clean error event (never the 400), route remembered',
    faults: [{ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 }],
    env: RESUME_ENV,
    prefill: { together: 'reject' },
  },
  {
    name: 'one malformed chunk',
    expected: 'skipped, primary completes',
    faults: [{ provider: 'deepinfra', mode: 'malformedEvents', afterChunks: 2, count: 1, times: 1 }],
  },
  { name: 'garbage before content', expected: 'fallback answers', faults: [{ provider: 'deepinfra', mode: 'garbage200', times: 1 }] },
  { name: 'HTML challenge page with 200', expected: 'fallback answers', faults: [{ provider: 'deepinfra', mode: 'html200', times: 1 }] },
  {
    name: 'context length exceeded',
    expected: 'clean 400 context_length_exceeded, not resent',
    faults: [{ provider: 'deepinfra', mode: 'status', status: 400, message: "This model's maximum context length is 8192 tokens.", times: 1 }],
  },
  {
    name: 'context length exceeded, larger model in the catalog',
    expected: 'llama-3-8b (8k) → llama-3.1-8b (128k), not resent unchanged',
    model: 'llama-3-8b',
    faults: [
      {
        provider: 'together',
        mode: 'status',
        status: 400,
        message: "This model's maximum context length is 8192 tokens.",
        model: 'meta-llama/Llama-3-8B-Instruct-Turbo',
      },
    ],
  },
  {
    name: 'content policy refusal',
    expected: "clean 400 content_policy_violation, the provider's decision",
    faults: [{ provider: 'deepinfra', mode: 'status', status: 400, message: 'Your request was rejected as a result of our safety system.', times: 1 }],
  },
  {
    name: 'primary and fallback both down',
    expected: 'clean 502 listing both',
    faults: [
      { provider: 'deepinfra', mode: 'status', status: 503 },
      { provider: 'together', mode: 'status', status: 503 },
    ],
  },
  { name: 'flapping primary (down 4 s, then healthy)', expected: 'every answer arrives; primary back within one max cooldown', faults: [], drive: flapping },
  {
    name: 'accounting after a failover',
    expected: "model = the fallback's upstream model; usage = the serving attempt's, as logged",
    faults: [{ provider: 'deepinfra', mode: 'status', status: 500 }],
    drive: accounting,
  },
];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function requestCounts(emulator: string): Promise<{ primary: number; fallback: number }> {
  const count = async (p: string) => ((await (await fetch(`${emulator}/__emulator/requests?provider=${p}`)).json()) as unknown[]).length;
  return { primary: await count('deepinfra'), fallback: await count('together') };
}

/** One streaming chat request, classified. */
async function streamOnce(gateway: string, model = MODEL): Promise<Omit<Outcome, 'primary' | 'fallback'>> {
  const started = performance.now();
  let ttftMs: number | null = null;
  const signal = AbortSignal.timeout(REQUEST_DEADLINE_MS);
  try {
    const res = await fetch(`${gateway}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: USER_TEXT }] }),
      signal,
    });
    if (res.status !== 200) {
      const body = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
      const totalMs = performance.now() - started;
      const code = body?.error?.code;
      return code
        ? { verdict: 'clean error', detail: `${res.status} ${code}`, totalMs, ttftMs }
        : { verdict: 'broken', detail: `${res.status} without an error body`, totalMs, ttftMs };
    }
    const provider = res.headers.get('x-pool-provider') ?? '?';
    const served = res.headers.get('x-pool-upstream-model') ?? '?';
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (ttftMs === null && text.includes('"content":"') && /"content":"[^"]/.test(text)) ttftMs = performance.now() - started;
    }
    const totalMs = performance.now() - started;
    const events = text
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice(6));
    const ended = events.at(-1) === '[DONE]';
    const error = events.find((e) => e.startsWith('{"error"'));
    if (error && ended)
      return {
        verdict: 'clean error',
        detail: `error event ${(JSON.parse(error) as { error: { code: string } }).error.code} (from ${provider})`,
        totalMs,
        ttftMs,
      };
    if (ended && ttftMs !== null) {
      // The emulator marks a continuation of another provider's text (see continuationText).
      const content = events
        .filter((e) => e !== '[DONE]')
        .map((e) => (JSON.parse(e) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content ?? '')
        .join('');
      const resumedBy = /continued by (\w+)/.exec(content)?.[1];
      const detail = resumedBy ? `from ${provider}, resumed by ${resumedBy}` : model === MODEL ? `from ${provider}` : `from ${provider} (${served})`;
      return { verdict: 'complete', detail, totalMs, ttftMs };
    }
    return { verdict: 'broken', detail: ended ? 'ended without content' : 'ended without [DONE]', totalMs, ttftMs };
  } catch (err) {
    return { verdict: 'broken', detail: `request failed: ${(err as Error).message}`, totalMs: performance.now() - started, ttftMs };
  }
}

/** The primary answers 503 for 4 s under a request every 250 ms, then recovers. */
async function flapping(gateway: string, emulator: string): Promise<Outcome> {
  await controlEmulator(emulator, 'faults', { provider: 'deepinfra', mode: 'status', status: 503 });
  const started = performance.now();
  let broken = 0;
  while (performance.now() - started < 4000) {
    if ((await streamOnce(gateway)).verdict !== 'complete') broken++;
    await sleep(250);
  }
  await fetch(`${emulator}/__emulator/faults`, { method: 'DELETE' });
  const recovered = performance.now();
  let backAfter: number | null = null;
  while (backAfter === null && performance.now() - recovered < 10_000) {
    const res = await fetch(`${gateway}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: USER_TEXT }] }),
    });
    await res.arrayBuffer();
    if (res.status !== 200) broken++;
    if (res.headers.get('x-pool-provider') === 'DeepInfra') backAfter = performance.now() - recovered;
    else await sleep(250);
  }
  const counts = await requestCounts(emulator);
  const detail = backAfter === null ? 'primary never came back' : `primary back ${Math.round(backAfter)} ms after recovering; ${broken} answers lost`;
  return { verdict: broken === 0 && backAfter !== null ? 'complete' : 'broken', detail, ...counts, totalMs: performance.now() - started, ttftMs: null };
}

/**
 * The primary fails (500), the fallback answers a stream with usage: every chunk names the model
 * that served (x-pool-upstream-model), the usage is the fallback's alone, and the request log holds
 * the failed attempt and the serving one with that same usage.
 */
async function accounting(gateway: string, emulator: string): Promise<Outcome> {
  await controlEmulator(emulator, 'faults', { provider: 'deepinfra', mode: 'status', status: 500 });
  const started = performance.now();
  const res = await fetch(`${gateway}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: USER_TEXT }] }),
  });
  const served = res.headers.get('x-pool-upstream-model');
  const provider = res.headers.get('x-pool-provider');
  const requestId = res.headers.get('x-request-id');
  const chunks = (await res.text())
    .split('\n\n')
    .filter((e) => e.startsWith('data: {'))
    .map((e) => JSON.parse(e.slice(6)) as { model?: string; usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null });
  const totalMs = performance.now() - started;
  const counts = await requestCounts(emulator);
  const problems: string[] = [];
  if (res.status !== 200 || !served) problems.push(`HTTP ${res.status}`);
  if (chunks.some((c) => c.model !== served)) problems.push(`a chunk names ${chunks.find((c) => c.model !== served)?.model}, not ${served}`);
  const usage = chunks.at(-1)?.usage;
  if (!usage || usage.completion_tokens <= 0) problems.push('no usage');
  // The log is written in batches: wait for this request's entry.
  const login = (await (
    await fetch(`${gateway}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: 'bench-admin-password' }),
    })
  ).json()) as { token: string };
  type Logged = { requestId: string; usage: typeof usage; attempts: Array<{ provider: string; status: number | null }> };
  let logged: Logged | undefined;
  for (let i = 0; i < 50 && !logged; i++) {
    const page = (await (await fetch(`${gateway}/api/logs?pageSize=5`, { headers: { authorization: `Bearer ${login.token}` } })).json()) as { items: Logged[] };
    logged = page.items.find((e) => e.requestId === requestId);
    if (!logged) await sleep(100);
  }
  if (!logged) problems.push('not in the request log');
  else {
    if (JSON.stringify(logged.usage) !== JSON.stringify(usage)) problems.push(`logged usage ${JSON.stringify(logged.usage)} differs`);
    const attempts = logged.attempts.map((a) => `${a.provider} ${a.status}`).join(', ');
    if (attempts !== 'DeepInfra 500, Together 200') problems.push(`attempts ${attempts}`);
  }
  const detail = problems.length
    ? problems.join('; ')
    : `from ${provider}: its model ${served} in every chunk; usage ${usage!.prompt_tokens}+${usage!.completion_tokens} as logged`;
  return { verdict: problems.length ? 'broken' : 'complete', detail, ...counts, totalMs, ttftMs: null };
}

async function runScenario(s: Scenario, emulator: string): Promise<Outcome> {
  await controlEmulator(emulator, 'reset');
  const port = await freePort();
  const gateway = await startGatewayProcess({
    main: join(ROOT, 'dist/apps/api/src/main.js'),
    port,
    logFile: join(OUT_DIR, 'failover-gateway.log'),
    env: {
      NODE_ENV: 'production',
      ADMIN_PASSWORD: 'bench-admin-password',
      ROUTING_STRATEGY: 'priority',
      DEEPINFRA_BASE_URL: `${emulator}/deepinfra/v1/openai`,
      DEEPINFRA_API_KEY: 'di-good-key-0001',
      DEEPINFRA_PRIORITY: '1',
      TOGETHER_BASE_URL: `${emulator}/together/v1`,
      TOGETHER_API_KEY: 'tg-good-key-0001',
      TOGETHER_PRIORITY: '2',
      POLLINATIONS_ENABLED: 'false',
      HUGGINGFACE_ENABLED: 'false',
      CLOUDFLARE_ENABLED: 'false',
      HEALTH_CHECK_INTERVAL: '0',
      DISCOVERY_INTERVAL_MINUTES: '0',
      UPSTREAM_FIRST_BYTE_TIMEOUT_MS: String(FIRST_BYTE_MS),
      UPSTREAM_FIRST_TOKEN_TIMEOUT_MS: String(FIRST_BYTE_MS),
      UPSTREAM_IDLE_TIMEOUT_MS: String(FIRST_BYTE_MS),
      BREAKER_COOLDOWN_MS: '500',
      BREAKER_MAX_COOLDOWN_MS: '2000',
      ...s.env,
    },
  });
  try {
    if (s.drive) return await s.drive(gateway.url, emulator);
    for (const fault of s.faults) await controlEmulator(emulator, 'faults', fault);
    for (const [provider, mode] of Object.entries(s.prefill ?? {})) await controlEmulator(emulator, 'prefill', { provider, mode });
    const result = await streamOnce(gateway.url, s.model);
    return { ...result, ...(await requestCounts(emulator)) };
  } finally {
    await gateway.stop();
  }
}

function render(rows: Array<{ s: Scenario; o: Outcome }>): string {
  const ms = (v: number | null) => (v === null ? '-' : String(Math.round(v)));
  const lines = [
    '# Failover scorecard',
    '',
    `Written by \`npm run bench:failover\` on ${new Date().toISOString().slice(0, 10)} (${process.version}). One streaming request per`,
    'scenario through the built gateway; primary DeepInfra, fallback Together, both the in-repo emulator;',
    `first-byte and first-token deadlines ${FIRST_BYTE_MS} ms, breaker cooldown 0.5 s growing to 2 s. "Complete": content and a`,
    'normal end; "clean error": an HTTP error in the error envelope, or an error event and `[DONE]` after',
    'content; "broken": anything else (a hang, a truncated answer passed off as whole, mixed text).',
    '',
    '| Scenario | Expected | Outcome | Detail | Primary tries | Fallback tries | Time (ms) | TTFT (ms) |',
    '|---|---|---|---|---:|---:|---:|---:|',
    ...rows.map(({ s, o }) => `| ${s.name} | ${s.expected} | ${o.verdict} | ${o.detail} | ${o.primary} | ${o.fallback} | ${ms(o.totalMs)} | ${ms(o.ttftMs)} |`),
    '',
    `${rows.filter((r) => r.o.verdict !== 'broken').length} of ${rows.length} scenarios end as a complete answer or a clean error.`,
    '',
    'Stream resumption is off by default (STREAM_RESUME): without it a cut or stalled stream ends with a',
    'clean error event; the STREAM_RESUME rows run with it on and Together declared to take prefill',
    '(STREAM_RESUME_PROVIDERS=Together), the emulator continuing (or refusing) a trailing assistant message.',
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  // The gateways' logs go there; a fresh clone has no bench/out yet.
  mkdirSync(OUT_DIR, { recursive: true });
  const emulator: Child = await startEmulatorProcess({ chunks: 8 });
  const rows: Array<{ s: Scenario; o: Outcome }> = [];
  try {
    for (const s of SCENARIOS) {
      const o = await runScenario(s, emulator.url);
      console.error(`[failover] ${s.name}: ${o.verdict} (${o.detail}) primary ${o.primary} fallback ${o.fallback} ${Math.round(o.totalMs)} ms`);
      rows.push({ s, o });
    }
  } finally {
    await emulator.stop();
  }
  const file = process.env.BENCH_FAILOVER_RESULTS ?? join(ROOT, 'bench/FAILOVER.md');
  writeFileSync(file, render(rows));
  console.error(`[failover] wrote ${file}`);
  if (rows.some((r) => r.o.verdict === 'broken')) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await main();
