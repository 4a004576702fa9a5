/**
 * Sampling fields beyond OpenAI's (`top_k`, `min_p`, `repetition_penalty`, …) reach only the
 * providers whose declaration lists them: DeepInfra and Together get theirs, Cloudflare's native
 * body gets top_k and repetition_penalty, and HuggingFace, Pollinations and an operator's
 * OpenAI-compatible upstream get none. The emulated HuggingFace, Pollinations, Cloudflare and
 * custom upstreams refuse a field they do not take with 400, as strict upstreams do, so a field
 * sent where it does not belong fails the request instead of passing unseen. An operator's
 * upstream whose definition lists `samplingParams` (a vLLM or Ollama host, here the same strict
 * emulated upstream told to take those) gets exactly those.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator, type ProviderId } from '../emulators/emulator.ts';
import { postJson, readSse, startGateway, type Gateway } from '../support/gateway.ts';

const EXTRAS = { top_k: 40, min_p: 0.05, repetition_penalty: 1.1, typical_p: 0.9 };
const EXTRA_NAMES = Object.keys(EXTRAS);

let emu: Emulator;
let gw: Gateway;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  const providersFile = join(mkdtempSync(join(tmpdir(), 'g4f-sampling-')), 'providers.yaml');
  writeFileSync(
    providersFile,
    [
      'upstreams:',
      '  - name: StrictUp',
      `    baseUrl: ${emu.baseUrl('custom')}`,
      '    models:',
      '      lab-llama: llama3.2',
      '  - name: VllmUp',
      `    baseUrl: ${emu.baseUrl('custom')}`,
      '    samplingParams: [top_k, min_p]',
      '    models:',
      '      lab-vllm: llama3.2',
      '',
    ].join('\n'),
  );
  gw = await startGateway(emu, { PROVIDERS_FILE: providersFile, BREAKER_FAILURE_THRESHOLD: '1000' });
}, 30_000);

afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

afterEach(() => emu.reset());

/** The extra sampling fields in the one body `provider` received. */
function extrasSentTo(provider: ProviderId): Record<string, unknown> {
  const sent = emu.requests(provider);
  expect(sent).toHaveLength(1);
  const body = sent[0]!.body as Record<string, unknown>;
  return Object.fromEntries(EXTRA_NAMES.filter((name) => name in body).map((name) => [name, body[name]]));
}

describe.each([false, true])('stream: %s', (stream) => {
  const ask = async (model: string, provider: string) => {
    const res = await postJson(`${gw.baseURL}/chat/completions`, {
      model,
      provider,
      stream,
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0.3,
      ...EXTRAS,
    });
    const text = stream ? JSON.stringify(await readSse(res)) : await res.text();
    expect({ status: res.status, text }).toMatchObject({ status: 200 });
    return text;
  };

  it.each([
    ['llama-3.3-70b', 'deepinfra', { top_k: 40, min_p: 0.05, repetition_penalty: 1.1 }],
    ['llama-3.3-70b', 'together', { top_k: 40, min_p: 0.05, repetition_penalty: 1.1 }],
    ['llama-4-scout', 'cloudflare', { top_k: 40, repetition_penalty: 1.1 }],
    ['llama-3.3-70b', 'huggingface', {}],
    ['llama-3.3-70b', 'pollinations', {}],
    ['lab-llama', 'custom', {}],
  ] as const)('%s on %s answers, sent only the fields it takes', async (model, provider, expected) => {
    await ask(model, provider === 'custom' ? 'StrictUp' : provider);
    expect(extrasSentTo(provider)).toEqual(expected);
  });

  it('an upstream whose samplingParams list top_k and min_p is sent those and no other', async () => {
    emu.setSamplingAccepts('custom', ['top_k', 'min_p']);
    await ask('lab-vllm', 'VllmUp');
    expect(extrasSentTo('custom')).toEqual({ top_k: 40, min_p: 0.05 });
  });
});

it('top_k of a /v1/messages request reaches an upstream that lists it, not one that does not', async () => {
  emu.setSamplingAccepts('custom', ['top_k', 'min_p']);
  const ask = (model: string) =>
    postJson(`${gw.url}/v1/messages`, { model, max_tokens: 16, top_k: 12, messages: [{ role: 'user', content: 'hi' }] }, { 'anthropic-version': '2023-06-01' });
  expect((await ask('lab-vllm')).status).toBe(200);
  expect((await ask('lab-llama')).status).toBe(200);
  const [vllm, strict] = emu.requests('custom').map((r) => r.body as Record<string, unknown>);
  expect(vllm).toMatchObject({ model: 'llama3.2', top_k: 12 });
  expect(strict).not.toHaveProperty('top_k');
});

it('the other OpenAI fields and unknown ones still pass through', async () => {
  const res = await postJson(`${gw.baseURL}/chat/completions`, {
    model: 'lab-llama',
    provider: 'StrictUp',
    messages: [{ role: 'user', content: 'hi' }],
    top_k: 5,
    seed: 7,
    logit_bias: { '42': 1 },
  });
  expect(res.status).toBe(200);
  const body = emu.requests('custom')[0]!.body as Record<string, unknown>;
  expect(body).toMatchObject({ seed: 7, logit_bias: { '42': 1 } });
  expect(body.top_k).toBeUndefined();
});
