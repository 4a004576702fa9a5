/**
 * Every error the gateway produces reaches the client in OpenAI's envelope
 * `{"error":{"message","type","param","code"}}`, carries `x-request-id`, and leaves the
 * service able to answer the next (normal) request.
 */
import { request as httpRequest } from 'node:http';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
interface ChatCompletionBody {
  object: string;
  choices: { message: { role: string; content: string | null } }[];
}

const HI = [{ role: 'user', content: 'hi' }];
const okChat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-4o-mini', messages: HI, ...extra });

let emu: Emulator;
let gw: Gateway;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  gw = await startGateway(emu);
}, 30_000);

afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

const chatUrl = (g: Gateway = gw) => `${g.baseURL}/chat/completions`;

/** Status, exact envelope keys, OpenAI's ErrorResponse schema; returns the `error` object. */
async function expectEnvelope(res: Response, status: number, code?: string | null, param?: string | null): Promise<ErrorBody['error']> {
  const text = await res.text();
  expect({ status: res.status, text }).toEqual({ status, text: expect.any(String) });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(typeof body.error.type).toBe('string');
  expect(body.error.param === null || typeof body.error.param === 'string').toBe(true);
  expect(body.error.code === null || typeof body.error.code === 'string').toBe(true);
  expectSchema('ErrorResponse', body);
  if (code !== undefined) expect(body.error.code).toBe(code);
  if (param !== undefined) expect(body.error.param).toBe(param);
  return body.error;
}

function expectRequestId(res: Response): void {
  expect(res.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
}

/** A normal chat request still succeeds. */
async function expectAlive(g: Gateway = gw, body: Record<string, unknown> = okChat()): Promise<void> {
  const res = await postJson(chatUrl(g), body);
  const json = (await res.json()) as ChatCompletionBody;
  expect(res.status).toBe(200);
  expectRequestId(res);
  expect(json.object).toBe('chat.completion');
  expect(json.choices[0]!.message.content).toEqual(expect.stringContaining('hi'));
}

/** A JSON body of exactly `size` bytes (a valid chat request padded inside the user message). */
function chatBodyOfSize(size: number): string {
  const empty = JSON.stringify(okChat({ messages: [{ role: 'user', content: 'hi ' }] }));
  const pad = size - Buffer.byteLength(empty);
  if (pad < 0) throw new Error(`cannot build a ${size}-byte body`);
  const body = JSON.stringify(okChat({ messages: [{ role: 'user', content: `hi ${'x'.repeat(pad)}` }] }));
  expect(Buffer.byteLength(body)).toBe(size);
  return body;
}

describe('invalid JSON bodies', () => {
  it.each([
    ['truncated JSON', '{"model":"gpt-4o-mini","messages":[{"role":"us'],
    ['{bad', '{bad'],
    ['trailing garbage', '{"model":"gpt-4o-mini"} x'],
    ['single quotes', "{'model':'gpt-4o-mini'}"],
  ])('%s → 400 invalid_json', async (_name, raw) => {
    const res = await postJson(chatUrl(), raw);
    const error = await expectEnvelope(res, 400, 'invalid_json', null);
    expect(error.type).toBe('invalid_request_error');
    expect(error.message).toMatch(/could not parse the JSON body/);
    await expectAlive();
  });

  it('an empty body sent as application/json → 400 invalid_json', async () => {
    const res = await postJson(chatUrl(), '');
    await expectEnvelope(res, 400, 'invalid_json', null);
    await expectAlive();
  });

  it('a body sent as text/plain is not parsed as JSON (no cross-site simple requests): 415 unsupported_media_type', async () => {
    const res = await fetch(chatUrl(), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(okChat()) });
    await expectEnvelope(res, 415, 'unsupported_media_type', null);
    await expectAlive();
  });

  it('a JSON array body → 400 (must be an object)', async () => {
    const res = await postJson(chatUrl(), JSON.stringify([okChat()]));
    const error = await expectEnvelope(res, 400, undefined, null);
    expect(error.type).toBe('invalid_request_error');
    await expectAlive();
  });

  it.each([
    ['a JSON string', '"hello"'],
    ['a JSON number', '42'],
    ['JSON null', 'null'],
    ['JSON true', 'true'],
  ])('%s body → 400', async (_name, raw) => {
    const res = await postJson(chatUrl(), raw);
    const error = await expectEnvelope(res, 400, undefined, null);
    expect(error.type).toBe('invalid_request_error');
    expect(['invalid_json', 'invalid_body']).toContain(error.code);
    await expectAlive();
  });
});

describe('schema violations name the offending param', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ['no messages', 'messages', { model: 'gpt-4o-mini' }],
    ['messages not an array', 'messages', okChat({ messages: 'hi' })],
    ['messages an object', 'messages', okChat({ messages: { role: 'user', content: 'hi' } })],
    ['empty messages', 'messages', okChat({ messages: [] })],
    ['a message that is a string', 'messages[0]', okChat({ messages: ['hi'] })],
    ['a message without role', 'messages[0].role', okChat({ messages: [{ content: 'hi' }] })],
    ['a bad role', 'messages[0].role', okChat({ messages: [{ role: 'robot', content: 'hi' }] })],
    ['the second message bad', 'messages[1].role', okChat({ messages: [...HI, { role: 'wizard', content: 'x' }] })],
    ['content a number', 'messages[0].content', okChat({ messages: [{ role: 'user', content: 5 }] })],
    ['user content missing', 'messages[0].content', okChat({ messages: [{ role: 'user' }] })],
    ['content parts without type', 'messages[0].content', okChat({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] })],
    ['temperature as a string', 'temperature', okChat({ temperature: '0.5' })],
    ['temperature 3', 'temperature', okChat({ temperature: 3 })],
    ['temperature -0.1', 'temperature', okChat({ temperature: -0.1 })],
    ['top_p 2', 'top_p', okChat({ top_p: 2 })],
    ['max_tokens 0', 'max_tokens', okChat({ max_tokens: 0 })],
    ['max_tokens 1.5', 'max_tokens', okChat({ max_tokens: 1.5 })],
    ['max_completion_tokens 0', 'max_completion_tokens', okChat({ max_completion_tokens: 0 })],
    ['stop with 5 strings', 'stop', okChat({ stop: ['a', 'b', 'c', 'd', 'e'] })],
    ['stop a number', 'stop', okChat({ stop: 7 })],
    ['n = 2', 'n', okChat({ n: 2 })],
    ['n = 0', 'n', okChat({ n: 0 })],
    ['stream "yes"', 'stream', okChat({ stream: 'yes' })],
    ['tools not an array', 'tools', okChat({ tools: { type: 'function' } })],
    ['tool_choice 42', 'tool_choice', okChat({ tool_choice: 42 })],
    ['tool_choice "sometimes"', 'tool_choice', okChat({ tool_choice: 'sometimes' })],
    ['presence_penalty 3', 'presence_penalty', okChat({ presence_penalty: 3 })],
    ['seed 1.5', 'seed', okChat({ seed: 1.5 })],
    ['model missing', 'model', { messages: HI }],
    ['model not a string', 'model', okChat({ model: 42 })],
    ['model empty', 'model', okChat({ model: '' })],
    ['provider not a string', 'provider', okChat({ provider: 7 })],
  ];

  it.each(cases)('%s → 400 param %s', async (_name, param, body) => {
    const res = await postJson(chatUrl(), body);
    const error = await expectEnvelope(res, 400, 'invalid_value', param);
    expect(error.type).toBe('invalid_request_error');
    expect(error.message).toContain(`'${param}'`);
    await expectAlive();
  });

  it.each<[string, Record<string, unknown>]>([
    ['temperature 0 and top_p 1', { temperature: 0, top_p: 1 }],
    ['temperature 2', { temperature: 2 }],
    ['stop with 4 strings', { stop: ['a', 'b', 'c', 'd'] }],
    ['stop a string', { stop: 'END' }],
    ['n = 1', { n: 1 }],
    ['max_tokens 1', { max_tokens: 1 }],
    ['tool_choice "auto"', { tool_choice: 'auto' }],
    ['stream false', { stream: false }],
    ['a system message first', { messages: [{ role: 'system', content: 'be brief' }, ...HI] }],
    ['content parts', { messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }],
  ])('valid edge: %s → 200', async (_name, extra) => {
    const res = await postJson(chatUrl(), okChat(extra));
    expect(res.status).toBe(200);
    expect(((await res.json()) as ChatCompletionBody).object).toBe('chat.completion');
  });
});

describe('unknown fields pass through', () => {
  it('logprobs: false, metadata: {} and an invented field do not cause a 400', async () => {
    const res = await postJson(chatUrl(), okChat({ logprobs: false, metadata: {}, store: false, x_custom_field: { a: 1 } }));
    expect(res.status).toBe(200);
    expectRequestId(res);
    expect(((await res.json()) as ChatCompletionBody).choices[0]!.message.content).toContain('hi');
  });
});

describe('model and provider errors', () => {
  it('an unknown model → 404 model_not_found, param model', async () => {
    const res = await postJson(chatUrl(), okChat({ model: 'no-such-model-xyz' }));
    const error = await expectEnvelope(res, 404, 'model_not_found', 'model');
    expect(error.type).toBe('invalid_request_error');
    expect(error.message).toContain('no-such-model-xyz');
    await expectAlive();
  });

  it('GET /v1/models/<unknown> → 404 model_not_found', async () => {
    const res = await fetch(`${gw.baseURL}/models/no-such-model-xyz`);
    await expectEnvelope(res, 404, 'model_not_found', 'model');
    await expectAlive();
  });

  it.each(['flux', 'dall-e-3'])('an image model (%s) on chat → 400, param model', async (model) => {
    const res = await postJson(chatUrl(), okChat({ model }));
    const error = await expectEnvelope(res, 400, 'model_not_supported', 'model');
    expect(error.message).toContain(model);
    expect(error.message).toMatch(/image/);
    await expectAlive();
  });

  it('an audio model (gpt-4o-mini-tts) on chat → 400, param model', async () => {
    const res = await postJson(chatUrl(), okChat({ model: 'gpt-4o-mini-tts' }));
    const error = await expectEnvelope(res, 400, 'model_not_supported', 'model');
    expect(error.message).toMatch(/audio/);
    await expectAlive();
  });

  it('an unknown provider → 400 unknown_provider listing the known providers', async () => {
    const res = await postJson(chatUrl(), okChat({ provider: 'NoSuchProvider' }));
    const error = await expectEnvelope(res, 400, 'unknown_provider', 'provider');
    expect(error.message).toContain('NoSuchProvider');
    for (const name of ['PollinationsAI', 'DeepInfra', 'Together', 'HuggingFace', 'CloudflareAI']) expect(error.message).toContain(name);
    await expectAlive();
  });

  it('a provider that does not serve the model → 400 provider_model_mismatch', async () => {
    const res = await postJson(chatUrl(), okChat({ provider: 'Together' }));
    const error = await expectEnvelope(res, 400, 'provider_model_mismatch', 'provider');
    expect(error.message).toContain('Together');
    expect(error.message).toContain('gpt-4o-mini');
    await expectAlive();
  });

  it('forcing a provider that does serve the model works (control case)', async () => {
    const res = await postJson(chatUrl(), okChat({ provider: 'PollinationsAI' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('PollinationsAI');
    await res.text();
  });
});

describe('no available provider → 503', () => {
  let g: Gateway;

  beforeAll(async () => {
    // Cloudflare without any key, Pollinations disabled by the operator.
    g = await startGateway(emu, { CLOUDFLARE_API_TOKEN: '', CLOUDFLARE_API_KEY: '', POLLINATIONS_ENABLED: 'false' });
  }, 30_000);

  afterAll(async () => {
    await g?.close();
  });

  const alive = () => expectAlive(g, { model: 'llama-3.3-70b', messages: HI });

  it('a Cloudflare-only model without a Cloudflare key → 503 no_available_provider saying it needs an API key', async () => {
    const res = await postJson(chatUrl(g), okChat({ model: 'llama-2-7b' }));
    const error = await expectEnvelope(res, 503, 'no_available_provider', null);
    expect(error.type).toBe('server_error');
    expect(error.message).toContain('llama-2-7b');
    expect(error.message).toContain('CloudflareAI');
    expect(error.message).toContain('needs an API key');
    expect(error.message).toMatch(/CLOUDFLARE_API_(KEY|TOKEN)/);
    expectRequestId(res);
    await alive();
  });

  it('forcing the unconfigured provider → 503 with the same reason', async () => {
    const res = await postJson(chatUrl(g), okChat({ model: 'llama-2-7b', provider: 'CloudflareAI' }));
    const error = await expectEnvelope(res, 503, 'no_available_provider', null);
    expect(error.message).toContain('needs an API key');
    await alive();
  });

  it('a model whose only provider is disabled (POLLINATIONS_ENABLED=false) → 503 naming the reason', async () => {
    const res = await postJson(chatUrl(g), okChat());
    const error = await expectEnvelope(res, 503, 'no_available_provider', null);
    expect(error.message).toContain('PollinationsAI');
    expect(error.message).toContain('disabled');
    await alive();
  });

  it('a Cloudflare key without CLOUDFLARE_ACCOUNT_ID → 503 naming CLOUDFLARE_ACCOUNT_ID', async () => {
    const g2 = await startGateway(emu, { CLOUDFLARE_ACCOUNT_ID: '' });
    try {
      const res = await postJson(chatUrl(g2), okChat({ model: 'llama-2-7b' }));
      const error = await expectEnvelope(res, 503, 'no_available_provider', null);
      expect(error.message).toContain('CLOUDFLARE_ACCOUNT_ID');
      await expectAlive(g2);
    } finally {
      await g2.close();
    }
  });

  it('the same Cloudflare-only model answers when Cloudflare is configured (control case)', async () => {
    const res = await postJson(chatUrl(), okChat({ model: 'llama-2-7b' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('CloudflareAI');
    await res.text();
  });
});

describe('body size limit', () => {
  it('default limit 10 MB: an 11 MB body → 413 request_too_large', async () => {
    const res = await postJson(chatUrl(), chatBodyOfSize(11 * 1024 * 1024));
    const error = await expectEnvelope(res, 413, 'request_too_large', null);
    expect(error.type).toBe('invalid_request_error');
    await expectAlive();
  });

  it('default limit 10 MB: a 2 MB body is accepted', async () => {
    const res = await postJson(chatUrl(), chatBodyOfSize(2 * 1024 * 1024));
    expect(res.status).toBe(200);
    await res.text();
  });

  describe('BODY_LIMIT=1kb', () => {
    let small: Gateway;
    beforeAll(async () => {
      small = await startGateway(emu, { BODY_LIMIT: '1kb' });
    }, 30_000);
    afterAll(async () => {
      await small?.close();
    });

    it('a 2 kB body → 413', async () => {
      const res = await postJson(chatUrl(small), chatBodyOfSize(2048));
      await expectEnvelope(res, 413, 'request_too_large', null);
      await expectAlive(small);
    });

    it('1025 bytes → 413, exactly 1024 bytes → 200', async () => {
      const over = await postJson(chatUrl(small), chatBodyOfSize(1025));
      await expectEnvelope(over, 413, 'request_too_large', null);
      const at = await postJson(chatUrl(small), chatBodyOfSize(1024));
      expect(at.status).toBe(200);
      await at.text();
    });

    it('a small body → 200', async () => {
      await expectAlive(small);
    });
  });
});

describe('unknown URLs and methods', () => {
  it.each<[string, string, string | undefined]>([
    ['GET', '/v1/nope', undefined],
    ['POST', '/v1/completions-typo', '{}'],
    ['POST', '/v1/chat/completion', JSON.stringify(okChat())],
    ['GET', '/nope', undefined],
  ])('%s %s → 404 unknown_url', async (method, path, body) => {
    const res = await fetch(`${gw.url}${path}`, { method, body, headers: body ? { 'content-type': 'application/json' } : {} });
    const error = await expectEnvelope(res, 404, 'unknown_url', null);
    expect(error.message).toContain(`${method} ${path}`);
    await expectAlive();
  });

  it.each([
    ['GET', '/v1/chat/completions'],
    ['DELETE', '/v1/chat/completions'],
    ['PUT', '/v1/models'],
  ])('wrong method %s %s → 4xx in the envelope', async (method, path) => {
    const res = await fetch(`${gw.url}${path}`, { method });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    await expectEnvelope(res, res.status);
    await expectAlive();
  });
});

describe('x-request-id on every answer', () => {
  const errorRequests: [string, () => Promise<Response>][] = [
    ['invalid JSON', () => postJson(chatUrl(), '{bad')],
    ['a JSON number body', () => postJson(chatUrl(), '42')],
    ['a body over the limit', () => postJson(chatUrl(), chatBodyOfSize(11 * 1024 * 1024))],
    ['a JSON array body', () => postJson(chatUrl(), '[]')],
    ['a schema violation', () => postJson(chatUrl(), okChat({ n: 2 }))],
    ['an unknown model', () => postJson(chatUrl(), okChat({ model: 'nope-model' }))],
    ['an unknown provider', () => postJson(chatUrl(), okChat({ provider: 'Nope' }))],
    ['an unknown URL', () => fetch(`${gw.baseURL}/nope`)],
    ['a wrong method', () => fetch(chatUrl())],
    ['a successful chat', () => postJson(chatUrl(), okChat())],
    ['GET /v1/models', () => fetch(`${gw.baseURL}/models`)],
    ['GET /health', () => fetch(`${gw.url}/health`)],
  ];

  it.each(errorRequests)('%s carries x-request-id', async (_name, send) => {
    const res = await send();
    await res.text();
    expectRequestId(res);
  });

  it('a sane caller-supplied x-request-id is echoed on an error', async () => {
    const res = await postJson(chatUrl(), okChat({ model: 'nope-model' }), { 'x-request-id': 'client-id_42.a:b' });
    await expectEnvelope(res, 404, 'model_not_found', 'model');
    expect(res.headers.get('x-request-id')).toBe('client-id_42.a:b');
  });

  it('a sane caller-supplied x-request-id is echoed on invalid JSON', async () => {
    const res = await postJson(chatUrl(), '{bad', { 'x-request-id': 'client-json-1' });
    await expectEnvelope(res, 400, 'invalid_json', null);
    expect(res.headers.get('x-request-id')).toBe('client-json-1');
  });

  it('an unsafe caller-supplied x-request-id is replaced by a generated one', async () => {
    const res = await postJson(chatUrl(), okChat({ n: 2 }), { 'x-request-id': 'bad id with spaces/<script>' });
    await expectEnvelope(res, 400, 'invalid_value', 'n');
    const id = res.headers.get('x-request-id');
    expect(id).not.toBe('bad id with spaces/<script>');
    expect(id).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it('each answer gets its own id', async () => {
    const ids = new Set<string | null>();
    for (let i = 0; i < 3; i++) {
      const res = await postJson(chatUrl(), okChat({ n: 2 }));
      await res.text();
      ids.add(res.headers.get('x-request-id'));
    }
    expect(ids.size).toBe(3);
    expect(ids.has(null)).toBe(false);
  });
});

describe('resilience', () => {
  it('a client that sends half a body and hangs up does not break the service', async () => {
    const { port } = new URL(gw.url);
    await new Promise<void>((resolve) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port: Number(port),
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { 'content-type': 'application/json', 'content-length': '1000' },
      });
      req.on('error', () => resolve());
      req.write('{"model":"gpt-4o-mini","messa');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    await expectAlive();
  });

  it('a burst of mixed bad requests followed by a good one', async () => {
    const bad = await Promise.all([
      postJson(chatUrl(), '{bad'),
      postJson(chatUrl(), okChat({ n: 2 })),
      postJson(chatUrl(), okChat({ model: 'x-unknown' })),
      fetch(`${gw.baseURL}/nope`),
    ]);
    expect(bad.map((r) => r.status)).toEqual([400, 400, 404, 404]);
    await Promise.all(bad.map((r) => r.text()));
    await expectAlive();
  });
});
