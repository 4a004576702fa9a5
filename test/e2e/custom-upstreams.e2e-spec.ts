import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { startEmulator, type Emulator, type RecordedRequest } from '../emulators/emulator.ts';
import { postJson, readSse, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

interface ModelObject {
  id: string;
  object: string;
  created: number;
  owned_by: string;
}
interface ModelList {
  object: string;
  data: ModelObject[];
}
interface ErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string | null };
}
interface Completion {
  model: string;
  choices: { message: { content: string | null }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}
interface Chunk {
  choices: { delta: { content?: string | null } }[];
}
interface UpstreamBody {
  model: string;
  stream?: boolean;
  provider?: unknown;
}

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const ask = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hi there' }], ...extra });
const bodyOf = (r: RecordedRequest) => r.body as UpstreamBody;
const customAnswer = (upstreamModel: string, said = 'hi there') => `Hello from custom (${upstreamModel}). You said: ${said}`;

let emu: Emulator;
let gw: Gateway;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  // The upstreams point at the emulator, whose port is only known now.
  const file = join(mkdtempSync(join(tmpdir(), 'g4f-providers-')), 'providers.yaml');
  writeFileSync(file, readFileSync(fixture('providers.template.yaml'), 'utf8').replaceAll('__EMULATOR__', emu.url));
  gw = await startGateway(emu, { PROVIDERS_FILE: file });
}, 30_000);

afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

afterEach(() => emu.reset());

describe('custom upstreams in /v1/models', () => {
  let list: ModelList;

  beforeAll(async () => {
    const res = await fetch(`${gw.baseURL}/models`);
    expect(res.status).toBe(200);
    list = (await res.json()) as ModelList;
    expectSchema('ListModelsResponse', list);
  });

  it('lists the new ids of a model map with owned_by from the file', () => {
    const find = (id: string) => list.data.find((m) => m.id === id);
    expect(find('lab-llama')).toEqual({ id: 'lab-llama', object: 'model', created: expect.any(Number), owned_by: 'acme-labs' });
    expect(find('acme/qwen-7b')?.owned_by).toBe('acme-labs');
    // Without ownedBy the upstream's name is the owner.
    expect(find('llama3.2')?.owned_by).toBe('open-proxy');
  });

  it('keeps a mapped existing id once, with its shipped owner', () => {
    const entries = list.data.filter((m) => m.id === 'gpt-4o-mini');
    expect(entries).toEqual([{ id: 'gpt-4o-mini', object: 'model', created: expect.any(Number), owned_by: 'OpenAI' }]);
    // The seed's 121, 4 embedding and 2 speech-to-text models, 3 new ids and the 5 auto models.
    expect(list.data).toHaveLength(127 + 3 + 5);
  });

  it('serves GET /v1/models/{id} for a new id, slashes included', async () => {
    const res = await fetch(`${gw.baseURL}/models/acme/qwen-7b`);
    expect(res.status).toBe(200);
    const model = (await res.json()) as ModelObject;
    expectSchema('Model', model);
    expect(model).toMatchObject({ id: 'acme/qwen-7b', owned_by: 'acme-labs' });
  });
});

describe('chat over a custom upstream', () => {
  it.each(['LabOllama', 'labollama', 'LABOLLAMA'])('accepts provider %p (case-insensitive) and sends the upstream id', async (provider) => {
    const res = await postJson(`${gw.baseURL}/chat/completions`, ask('lab-llama', { provider }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('LabOllama');
    expect(res.headers.get('x-pool-upstream-model')).toBe('llama3.2');
    const body = (await res.json()) as Completion;
    expect(body.model).toBe('llama3.2');
    expect(body.choices[0]!.message.content).toBe(customAnswer('llama3.2'));
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    expect(body.usage.total_tokens).toBeGreaterThan(0);

    const upstream = emu.requests('custom');
    expect(upstream).toHaveLength(1);
    expect(upstream[0]!.path).toBe('/custom/v1/chat/completions');
    expect(bodyOf(upstream[0]!).model).toBe('llama3.2');
    expect(bodyOf(upstream[0]!)).not.toHaveProperty('provider');
  });

  it('answers in the OpenAI chat.completion shape', async () => {
    const res = await postJson(`${gw.baseURL}/chat/completions`, ask('lab-llama', { provider: 'labollama' }));
    expect(res.status).toBe(200);
    expectSchema('CreateChatCompletionResponse', await res.json());
  });

  it('routes a new id to its upstream without a forced provider, stream included', async () => {
    const res = await postJson(`${gw.baseURL}/chat/completions`, ask('acme/qwen-7b', { stream: true }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-pool-provider')).toBe('LabOllama');
    expect(res.headers.get('x-pool-upstream-model')).toBe('qwen2.5:7b');
    const events = await readSse(res);
    expect(events.at(-1)).toBe('[DONE]');
    const text = (events.filter((e) => e !== '[DONE]') as Chunk[]).map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(customAnswer('qwen2.5:7b'));
    expect(emu.requests('custom').map((r) => bodyOf(r))).toEqual([expect.objectContaining({ model: 'qwen2.5:7b', stream: true })]);
  });

  it('sends the configured api key as a Bearer token', async () => {
    const res = await postJson(`${gw.baseURL}/chat/completions`, ask('lab-llama'));
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const [request] = emu.requests('custom');
    expect(request?.headers.authorization).toBe('Bearer sk-lab-0001');
  });

  it('sends no Authorization header for an upstream without a key', async () => {
    const res = await postJson(`${gw.baseURL}/chat/completions`, ask('llama3.2', { provider: 'OPEN-PROXY' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('open-proxy');
    expect(res.headers.get('x-pool-upstream-model')).toBe('llama3.2');
    expect(((await res.json()) as Completion).choices[0]!.message.content).toBe(customAnswer('llama3.2'));
    const [request] = emu.requests('custom');
    // base_url had a trailing slash: it must not double up.
    expect(request?.path).toBe('/custom/v1/chat/completions');
    expect(request?.headers.authorization).toBeUndefined();
  });

  it('gives a mapped existing id the custom route while keeping its shipped one', async () => {
    const custom = await postJson(`${gw.baseURL}/chat/completions`, ask('gpt-4o-mini', { provider: 'labollama' }));
    expect(custom.status).toBe(200);
    expect(custom.headers.get('x-pool-provider')).toBe('LabOllama');
    expect(custom.headers.get('x-pool-upstream-model')).toBe('gpt-4o-mini');
    expect(((await custom.json()) as Completion).choices[0]!.message.content).toBe(customAnswer('gpt-4o-mini'));

    const shipped = await postJson(`${gw.baseURL}/chat/completions`, ask('gpt-4o-mini', { provider: 'PollinationsAI' }));
    expect(shipped.status).toBe(200);
    expect(shipped.headers.get('x-pool-upstream-model')).toBe('openai');
    await shipped.arrayBuffer();

    // Unforced, both routes are used over a few requests.
    const seen = new Set<string>();
    for (let i = 0; i < 24 && seen.size < 2; i++) {
      const res = await postJson(`${gw.baseURL}/chat/completions`, ask('gpt-4o-mini'));
      expect(res.status).toBe(200);
      seen.add(res.headers.get('x-pool-provider') ?? '');
      await res.arrayBuffer();
    }
    expect([...seen].sort()).toEqual(['LabOllama', 'PollinationsAI']);
  });

  it('works through the official OpenAI SDK', async () => {
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'x' });
    const completion = await client.chat.completions.create({ model: 'lab-llama', messages: [{ role: 'user', content: 'hi there' }] });
    expect(completion.choices[0]!.message.content).toBe(customAnswer('llama3.2'));
    expect(emu.requests('custom')[0]?.headers.authorization).toBe('Bearer sk-lab-0001');
  });

  it('refuses a provider that does not serve the model, naming it', async () => {
    const res = await postJson(`${gw.baseURL}/chat/completions`, ask('lab-llama', { provider: 'DeepInfra' }));
    expect(res.status).toBe(400);
    const err = (await res.json()) as ErrorEnvelope;
    expectSchema('ErrorResponse', err);
    expect(err.error.code).toBe('provider_model_mismatch');
    expect(err.error.param).toBe('provider');
    expect(emu.requests()).toEqual([]);
  });
});

/** Marks Nest trying to end the process; thrown instead, so the test runner survives it. */
class ProcessEndAttempt extends Error {}

/**
 * Starts a gateway that is expected not to start. A configuration error must reach the caller
 * as a rejection (main.ts prints it as "Configuration error: …"); the app must never end the
 * process by itself. process.exit/abort are trapped for the duration, so a regression shows
 * up as a failed assertion instead of a dead test worker.
 */
async function startupFailure(env: Record<string, string>): Promise<{ error: Error | null; processEnds: string[] }> {
  const processEnds: string[] = [];
  const { exit, abort } = process;
  process.exit = ((code?: number | string | null) => {
    processEnds.push(`process.exit(${String(code)})`);
    throw new ProcessEndAttempt(`the application called process.exit(${String(code)})`);
  }) as typeof process.exit;
  process.abort = (() => {
    processEnds.push('process.abort()');
    throw new ProcessEndAttempt('the application called process.abort()');
  }) as typeof process.abort;
  try {
    const gw = await startGateway(emu, env);
    await gw.close();
    return { error: null, processEnds };
  } catch (err) {
    return { error: err as Error, processEnds };
  } finally {
    process.exit = exit;
    process.abort = abort;
  }
}

describe('a broken PROVIDERS_FILE', () => {
  it.each([
    ['providers-bad-url.yaml', /upstreams\[0\]\.baseUrl: "not a url" is not a URL/],
    ['providers-duplicate-name.yaml', /upstreams\[1\]\.name: "labollama" is already used/],
    ['providers-builtin-name.yaml', /upstreams\[0\]\.name: "DeepInfra" is already used/],
    ['providers-missing-models.yaml', /upstreams\[0\]\.models: list at least one model/],
    ['does-not-exist.yaml', /does-not-exist\.yaml: cannot read/],
  ])('%s makes startGateway reject with a message naming the file and field', async (name, message) => {
    const file = fixture(name);
    const { error, processEnds } = await startupFailure({ PROVIDERS_FILE: file });
    expect(processEnds).toEqual([]);
    expect(error).toBeInstanceOf(Error);
    expect(error?.name).toBe('ConfigError');
    expect(error?.message).toContain(file);
    expect(error?.message).toMatch(message);
  });
});
