/**
 * An upstream that judges the request itself ends it: a prompt longer than the model's context,
 * or a refusal under the provider's content policy, comes back as a 400 with the provider's words
 * and OpenAI's code, and the request is not resent unchanged to the next provider (which would
 * repeat it, or shop for a provider that says yes). An ordinary 400 still fails over.
 * FAILOVER_ON_CONTENT_POLICY=true lets a policy refusal fail over. Priority DeepInfra → Together.
 */
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { postJson, readSse, startGateway, type Gateway } from '../support/gateway.ts';

const MODEL = 'llama-3.3-70b';
const CONTEXT_MESSAGE = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.";
const POLICY_MESSAGE = 'Your request was rejected as a result of our safety system.';

interface ErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null; attempts?: { provider: string }[] };
}

let emu: Emulator;
const gateways: Gateway[] = [];

const start = async (env: Record<string, string> = {}) => {
  const gw = await startGateway(emu, {
    ROUTING_STRATEGY: 'priority',
    DEEPINFRA_PRIORITY: '1',
    TOGETHER_PRIORITY: '2',
    HUGGINGFACE_ENABLED: 'false',
    POLLINATIONS_ENABLED: 'false',
    CLOUDFLARE_ENABLED: 'false',
    BREAKER_FAILURE_THRESHOLD: '1000',
    ...env,
  });
  gateways.push(gw);
  return gw;
};

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await emu?.close();
});
afterEach(() => emu.reset());

const chat = (gw: Gateway, stream: boolean) =>
  postJson(`${gw.baseURL}/chat/completions`, { model: MODEL, stream, messages: [{ role: 'user', content: 'a very long prompt' }] });

describe.each([
  ['non-stream', false],
  ['stream', true],
] as const)('%s', (_label, stream) => {
  it('a context too long is the answer: 400 context_length_exceeded with the provider’s words, no second provider', async () => {
    const gw = gateways[0] ?? (await start());
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 400, message: CONTEXT_MESSAGE, times: 1 });
    const res = await chat(gw, stream);
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorBody;
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'context_length_exceeded', message: CONTEXT_MESSAGE });
    expect(body.error.attempts?.map((a) => a.provider)).toEqual(['DeepInfra']);
    expect(emu.requests('together')).toHaveLength(0);
  });

  it('a content-policy refusal is the provider’s decision: 400 content_policy_violation, no second provider', async () => {
    const gw = gateways[0] ?? (await start());
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 400, message: POLICY_MESSAGE, times: 1 });
    const res = await chat(gw, stream);
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: 'content_policy_violation', message: POLICY_MESSAGE });
    expect(emu.requests('together')).toHaveLength(0);
  });

  it('an ordinary 400 still fails over', async () => {
    const gw = gateways[0] ?? (await start());
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 400, message: 'this provider dislikes the request', times: 1 });
    const res = await chat(gw, stream);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('Together');
    if (stream) expect((await readSse(res)).at(-1)).toBe('[DONE]');
  });
});

it('FAILOVER_ON_CONTENT_POLICY=true tries the next provider after a policy refusal (a context too long still ends it)', async () => {
  const gw = await start({ FAILOVER_ON_CONTENT_POLICY: 'true' });
  emu.addFault({ provider: 'deepinfra', mode: 'status', status: 400, message: POLICY_MESSAGE, times: 1 });
  const res = await chat(gw, false);
  expect(res.status).toBe(200);
  expect(res.headers.get('x-pool-provider')).toBe('Together');
  emu.addFault({ provider: 'deepinfra', mode: 'status', status: 400, message: CONTEXT_MESSAGE, times: 1 });
  expect((await chat(gw, false)).status).toBe(400);
});
