// The three chat front doors of the gateway, one streamed request each, for the benchmark's
// front-door phase: chat completions, the Responses API and Anthropic Messages all run the same
// failover core, so the two newer doors should cost about what chat does (issue budget: ≥ 0.9×).
// Beside them /v1/embeddings, which has no chat to compare with: it is measured against the
// emulator's own embeddings endpoint, direct and gateway rounds alternating as in the timed phases.
import { embedText } from '../test/emulators/embedding-wire.ts';
import type { Target } from './client.ts';
import type { Verifier } from './load.ts';
import type { PhaseResult, RoundMetrics } from './report.ts';
import { checkStream, sseData } from './verify.ts';
import { CLIENT_KEY, EXPECTED_TEXT, GATEWAY_MODEL, SYSTEM_TEXT, UPSTREAM_KEY, USER_TEXT, bodyFor } from './workload.ts';

export const FRONT_DOORS = ['chat', 'responses', 'messages'] as const;
export type FrontDoor = (typeof FRONT_DOORS)[number];

export interface FrontDoorRun {
  target: Target;
  body: string;
  verify: Verifier;
}

const auth = { authorization: `Bearer ${CLIENT_KEY}` };

/** The JSON events of a typed-event stream (Responses, Messages); undefined when one is not JSON. */
function typedEvents(body: string): Array<Record<string, unknown>> | undefined {
  const out: Array<Record<string, unknown>> = [];
  for (const data of sseData(body)) {
    try {
      out.push(JSON.parse(data) as Record<string, unknown>);
    } catch {
      return undefined;
    }
  }
  return out;
}

/** Responses API: the output_text deltas spell the answer and the last event is response.completed. */
function checkResponsesStream(body: string): string | undefined {
  const events = typedEvents(body);
  if (!events) return 'an event is not JSON';
  if (events.at(-1)?.type !== 'response.completed') return `last event is ${String(events.at(-1)?.type)}`;
  const text = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [String(e.delta)] : [])).join('');
  return text === EXPECTED_TEXT ? undefined : `wrong text: ${JSON.stringify(text).slice(0, 120)}`;
}

/** Anthropic Messages: the text_delta pieces spell the answer and the last event is message_stop. */
function checkMessagesStream(body: string): string | undefined {
  const events = typedEvents(body);
  if (!events) return 'an event is not JSON';
  if (events.at(-1)?.type !== 'message_stop') return `last event is ${String(events.at(-1)?.type)}`;
  const text = events
    .flatMap((e) => {
      const delta = e.delta as { type?: string; text?: string } | undefined;
      return e.type === 'content_block_delta' && delta?.type === 'text_delta' ? [delta.text ?? ''] : [];
    })
    .join('');
  return text === EXPECTED_TEXT ? undefined : `wrong text: ${JSON.stringify(text).slice(0, 120)}`;
}

/** One streamed request per front door, each asking the gateway the same question. */
export function frontDoorRuns(gatewayUrl: string): Record<FrontDoor, FrontDoorRun> {
  const chat: Target = { label: 'gateway', url: `${gatewayUrl}/v1/chat/completions`, headers: auth };
  return {
    chat: { target: chat, body: bodyFor(chat, true), verify: (ex) => checkStream(ex.body, EXPECTED_TEXT) },
    responses: {
      target: { label: 'responses', url: `${gatewayUrl}/v1/responses`, headers: auth },
      // Stored, as by default: the store's write is part of what this door costs.
      body: JSON.stringify({ model: GATEWAY_MODEL, instructions: SYSTEM_TEXT, input: USER_TEXT, stream: true, temperature: 0.2 }),
      verify: (ex) => checkResponsesStream(ex.body),
    },
    messages: {
      target: { label: 'messages', url: `${gatewayUrl}/v1/messages`, headers: auth },
      body: JSON.stringify({
        model: GATEWAY_MODEL,
        system: SYSTEM_TEXT,
        max_tokens: 1024,
        messages: [{ role: 'user', content: USER_TEXT }],
        stream: true,
        temperature: 0.2,
      }),
      verify: (ex) => checkMessagesStream(ex.body),
    },
  };
}

// ---- /v1/embeddings ---------------------------------------------------------------------------

/** The catalog's bge-m3 is routed to DeepInfra's BAAI/bge-m3 (1024 dimensions), the only provider the bench gateway has. */
export const EMBEDDING_MODEL = 'bge-m3';
export const EMBEDDING_UPSTREAM_MODEL = 'BAAI/bge-m3';
export const EMBEDDING_DIMENSIONS = 1024;
/** A small RAG-style batch: four passages in one request. */
export const EMBEDDING_INPUTS = [
  'A gateway should add as little latency as possible.',
  'Failover moves a request to the next provider when one fails.',
  '网关应当尽量少增加延迟。',
  'Embeddings turn text into vectors for retrieval.',
];

/** The first component of each input's vector, as the emulator makes them (a pure function of the text). */
const EXPECTED_FIRST = EMBEDDING_INPUTS.map((t) => embedText(t, EMBEDDING_DIMENSIONS)[0]);

/** undefined when the body holds every input's vector, in order, of the right length and value; else what is wrong. */
export function checkEmbeddings(body: string): string | undefined {
  let parsed: { data?: Array<{ index?: unknown; embedding?: unknown }> };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return `body is not JSON: ${body.slice(0, 120)}`;
  }
  const data = parsed.data ?? [];
  if (data.length !== EMBEDDING_INPUTS.length) return `${data.length} vectors for ${EMBEDDING_INPUTS.length} inputs`;
  for (const [i, d] of data.entries()) {
    const v = d.embedding;
    if (d.index !== i || !Array.isArray(v) || v.length !== EMBEDDING_DIMENSIONS) return `vector ${i}: wrong index or length`;
    if (v[0] !== EXPECTED_FIRST[i]) return `vector ${i}: wrong values (${String(v[0])})`;
  }
  return undefined;
}

/** The same batch straight to the emulated DeepInfra and through the gateway. */
export function embeddingsRuns(emulatorUrl: string, gatewayUrl: string): Record<'direct' | 'gateway', FrontDoorRun> {
  const body = (model: string) => JSON.stringify({ model, input: EMBEDDING_INPUTS, encoding_format: 'float' });
  const verify: Verifier = (ex) => checkEmbeddings(ex.body);
  return {
    direct: {
      target: { label: 'direct', url: `${emulatorUrl}/deepinfra/v1/openai/embeddings`, headers: { authorization: `Bearer ${UPSTREAM_KEY}` } },
      body: body(EMBEDDING_UPSTREAM_MODEL),
      verify,
    },
    gateway: { target: { label: 'gateway', url: `${gatewayUrl}/v1/embeddings`, headers: auth }, body: body(EMBEDDING_MODEL), verify },
  };
}

/**
 * Direct and gateway rounds of the embeddings batch, their order alternating each round (pairs,
 * as the timed phases make them). `round` runs one side at the benchmark's concurrency; the
 * gateway's CPU is only the gateway round's.
 */
export async function embeddingsRounds(
  runs: Record<'direct' | 'gateway', FrontDoorRun>,
  rounds: number,
  round: (run: FrontDoorRun) => Promise<RoundMetrics>,
  log: (line: string) => void,
): Promise<PhaseResult> {
  const result: PhaseResult = { direct: [], gateway: [] };
  // Warmup of both paths, not measured.
  await round(runs.direct);
  await round(runs.gateway);
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 === 0 ? (['direct', 'gateway'] as const) : (['gateway', 'direct'] as const)) {
      const m = await round(runs[side]);
      result[side].push(side === 'direct' ? { ...m, gatewayCpuUs: Number.NaN } : m);
      log(
        `embeddings round ${r + 1}/${rounds} ${side.padEnd(7)} ${m.throughput.toFixed(0)}/s${m.errors ? `, ${m.errors} errors (${m.firstError?.slice(0, 100)})` : ''}`,
      );
    }
  }
  return result;
}
