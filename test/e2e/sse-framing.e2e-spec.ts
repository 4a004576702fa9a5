/**
 * Upstream SSE is parsed by the spec: CRLF or LF, comment lines, `data:` with or without the
 * space, events split across network packets (down to one byte, through multi-byte UTF-8),
 * and multi-line data. Whatever the framing, the client gets exactly the provider's text as
 * valid OpenAI chunks.
 *
 * Each request pins its provider (`provider` field) so a parse failure cannot hide behind
 * failover.
 */
import { answerText } from '../emulators/answers.ts';
import { startEmulator } from '../emulators/emulator.ts';
import type { Emulator, Framing, ProviderId } from '../emulators/emulator.ts';
import { postJson, readSse, startGateway } from '../support/gateway.ts';
import type { Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

/** Multi-byte characters make 1- and 7-byte packets split code points. */
const PROMPT = 'framing check: héllo wörld, 世界 🎉';
const CHUNKS = 8;

interface Target {
  id: ProviderId;
  name: string;
  model: string;
  upstream: string;
}

const TARGETS: readonly Target[] = [
  { id: 'deepinfra', name: 'DeepInfra', model: 'llama-3.3-70b', upstream: 'meta-llama/Llama-3.3-70B-Instruct-Turbo' },
  { id: 'pollinations', name: 'PollinationsAI', model: 'llama-3.3-70b', upstream: 'llama' },
  { id: 'cloudflare', name: 'CloudflareAI', model: 'llama-3.2-1b', upstream: '@cf/meta/llama-3.2-1b-instruct' },
];

const VARIANTS: readonly [string, Partial<Framing>][] = [
  ['plain LF (baseline)', {}],
  ['CRLF line endings', { crlf: true }],
  ['data: without the space', { noSpace: true }],
  ['comment lines, event: and id: fields', { comments: true }],
  ['1-byte packets', { splitBytes: 1 }],
  ['7-byte packets', { splitBytes: 7 }],
  ['multi-line data', { multiline: true }],
  ['CRLF split into 1-byte packets', { crlf: true, splitBytes: 1 }],
  ['everything combined, 7-byte packets', { crlf: true, noSpace: true, comments: true, splitBytes: 7, multiline: true }],
  ['everything combined, 1-byte packets', { crlf: true, noSpace: true, comments: true, splitBytes: 1, multiline: true }],
];

interface StreamChunk {
  object: string;
  choices: { delta: { role?: string; content?: string | null }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

const CASES = TARGETS.flatMap((target) => VARIANTS.map(([variant, framing]) => ({ provider: target.name, variant, framing, target })));

let emu: Emulator;
let gw: Gateway;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true, chunks: CHUNKS });
  gw = await startGateway(emu);
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
afterEach(() => emu.reset());

async function streamFrom(target: Target, framing: Partial<Framing>): Promise<{ res: Response; events: unknown[] }> {
  emu.setFraming(target.id, framing);
  const res = await postJson(`${gw.baseURL}/chat/completions`, {
    model: target.model,
    provider: target.name,
    messages: [{ role: 'user', content: PROMPT }],
    stream: true,
    stream_options: { include_usage: true },
  });
  return { res, events: await readSse(res) };
}

describe('upstream SSE framing', () => {
  it.each(CASES)('$provider, $variant: the streamed text equals the answer, in valid OpenAI chunks', async ({ target, framing }) => {
    const { res, events } = await streamFrom(target, framing);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe(target.name);
    expect(emu.requests(target.id)).toHaveLength(1);

    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1) as StreamChunk[];
    for (const chunk of chunks) expectSchema('CreateChatCompletionStreamResponse', chunk);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(answerText(target.id, target.upstream, PROMPT));
    // The text arrives in several chunks (streamed, not buffered into one).
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(1);
    expect(chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter((f) => f !== null)).toEqual(['stop']);

    // include_usage: one final chunk with choices: [] and real token counts.
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage?.completion_tokens).toBeGreaterThan(0);
    expect(last.usage?.total_tokens).toBe((last.usage?.prompt_tokens ?? NaN) + (last.usage?.completion_tokens ?? NaN));
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });
});
