/**
 * `POST /api/images/test`, the console playground's image generation: the same request and answer
 * as `/v1/images/generations`, behind the admin session instead of a client key (so the console
 * never needs one), recorded in the request log like any other request.
 */
import { inspectImage, startEmulator, type Emulator, type ProviderId } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

const API_KEY = 'sk-playground-images-test';
const ALL: ProviderId[] = ['pollinations', 'deepinfra', 'together', 'huggingface', 'cloudflare'];

interface ImagesBody {
  created: number;
  data: Array<{ url?: string; b64_json?: string }>;
}
interface ErrorBody {
  error: { message: string; code: string | null; param: string | null; attempts?: Array<{ provider: string; status: number | null }> };
}

let emu: Emulator;
let gw: Gateway;
let h: Record<string, string>;
beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  // A client key is configured: /v1 is closed to anyone without it, the playground is not.
  gw = await startGateway(emu, { API_KEY, BREAKER_FAILURE_THRESHOLD: '1000' });
  h = await adminHeaders(gw);
});
afterAll(async () => {
  await gw.close();
  await emu.close();
});
afterEach(() => emu.reset());

const test = (body: unknown, headers = h) => postJson(`${gw.url}/api/images/test`, body, headers);

describe('POST /api/images/test (the console playground)', () => {
  it('answers like /v1/images/generations, in base64, and says who answered', async () => {
    const res = await test({ model: 'flux', prompt: 'a red kite', size: '256x256', response_format: 'b64_json', provider: 'Together' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('Together');
    expect(res.headers.get('x-pool-upstream-model')).toBeTruthy();
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const body = (await res.json()) as ImagesBody;
    expectSchema('ImagesResponse', body);
    expect(body.data).toHaveLength(1);
    expect(inspectImage(Buffer.from(body.data[0]!.b64_json!, 'base64'))).toMatchObject({ width: 256, height: 256 });
  });

  it('hands out the gateway’s own image URLs with response_format url (the default)', async () => {
    const res = await test({ model: 'flux', prompt: 'a blue kite', size: '128x128', n: 2 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ImagesBody;
    expect(body.data).toHaveLength(2);
    for (const image of body.data) {
      expect(image.url).toMatch(new RegExp(`^${gw.url}/v1/images/files/`));
      const file = await fetch(image.url!);
      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toMatch(/^image\//);
    }
  });

  it('needs the admin session, while /v1 needs a client key', async () => {
    const body = { model: 'flux', prompt: 'a kite', size: '128x128' };
    expect((await test(body, { 'content-type': 'application/json' })).status).toBe(401);
    expect((await test(body, { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` })).status).toBe(401);
    expect((await postJson(`${gw.baseURL}/images/generations`, body, h)).status).toBe(401);
    expect((await postJson(`${gw.baseURL}/images/generations`, body, { authorization: `Bearer ${API_KEY}` })).status).toBe(200);
  });

  it('refuses a chat model, and reports every attempt when all providers fail', async () => {
    const chat = await test({ model: 'llama-3.3-70b', prompt: 'a kite' });
    expect(chat.status).toBe(400);
    expect(((await chat.json()) as ErrorBody).error.code).toBe('model_not_supported');

    for (const provider of ALL) emu.addFault({ provider, mode: 'status', status: 500, path: 'image' });
    const failed = await test({ model: 'flux', prompt: 'a kite', size: '128x128' });
    expect(failed.status).toBe(502);
    const error = ((await failed.json()) as ErrorBody).error;
    expect(error.attempts!.length).toBeGreaterThan(1);
    expect(error.attempts!.every((a) => a.status === 500)).toBe(true);
  });

  it('is recorded in the request log like /v1 requests', async () => {
    const res = await test({ model: 'flux', prompt: 'a logged kite', size: '128x128', response_format: 'b64_json' });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id');
    const logs = (await (await fetch(`${gw.url}/api/logs?model=flux`, { headers: h })).json()) as {
      items: Array<{ requestId: string; endpoint: string; status: number; provider: string | null }>;
    };
    expect(logs.items.find((e) => e.requestId === requestId)).toMatchObject({ endpoint: 'images', status: 200, provider: res.headers.get('x-pool-provider') });
  });
});
