import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { postJson, readSse, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

interface AdminModels {
  total: number;
  categories: Array<{ id: string; label: string; count: number }>;
  models: Array<{ id: string; category: string; routes: Array<{ provider: string; upstream_model: string; state: string; pinned: boolean }> }>;
  discovery: { providers: Array<{ provider: string }> };
}

let emu: Emulator;
let gw: Gateway;
let h: Record<string, string>;
beforeAll(async () => {
  emu = await startEmulator();
  gw = await startGateway(emu);
  h = await adminHeaders(gw);
});
afterAll(async () => {
  await gw.close();
  await emu.close();
});

const get = async <T>(path: string, headers = h) => {
  const res = await fetch(`${gw.url}${path}`, { headers });
  return { status: res.status, body: (await res.json()) as T };
};

describe('GET /api/models', () => {
  it('lists the whole catalog with the seed’s category chips and each route’s discovery state', async () => {
    const { status, body } = await get<AdminModels>('/api/models');
    expect(status).toBe(200);
    expect(body.total).toBe(body.models.length);
    expect(body.total).toBeGreaterThanOrEqual(121);
    expect(body.categories.map((c) => c.label)).toEqual(['对话', '推理', '代码', '视觉', '图像生成', '音频', '嵌入', '语音识别']);
    expect(body.categories.reduce((n, c) => n + c.count, 0)).toBe(body.total);
    const llama = body.models.find((m) => m.id === 'llama-3.3-70b')!;
    expect(llama.routes.map((r) => r.provider)).toEqual(expect.arrayContaining(['DeepInfra', 'Together', 'HuggingFace']));
    for (const r of llama.routes) expect(['confirmed', 'missing', 'unknown']).toContain(r.state);
  });

  it('filters by category; an unknown category is a 400 naming it', async () => {
    const { body } = await get<AdminModels>('/api/models?category=image');
    expect(body.models.length).toBe(body.categories.find((c) => c.id === 'image')!.count);
    expect(body.models.every((m) => m.category === 'image')).toBe(true);
    const bad = await get<{ error: { param: string } }>('/api/models?category=video');
    expect([bad.status, bad.body.error.param]).toEqual([400, 'category']);
  });

  it('refreshing discovery confirms routes the emulator serves, and pinning is reported', async () => {
    const refreshed = await fetch(`${gw.url}/api/discovery/refresh?provider=DeepInfra`, { method: 'POST', headers: h });
    expect(refreshed.status).toBe(200);
    const one = await get<{ routes: Array<{ provider: string; state: string; pinned: boolean }> }>('/api/models/llama-3.3-70b');
    expect(one.body.routes.find((r) => r.provider === 'DeepInfra')!.state).toBe('confirmed');
    const pinned = await fetch(`${gw.url}/api/models/llama-3.3-70b/routes/Together/pin`, { method: 'POST', headers: h });
    expect(pinned.status).toBe(200);
    expect(
      (await get<{ routes: Array<{ provider: string; pinned: boolean }> }>('/api/models/llama-3.3-70b')).body.routes.find((r) => r.provider === 'Together')!
        .pinned,
    ).toBe(true);
    await fetch(`${gw.url}/api/models/llama-3.3-70b/routes/Together/pin`, { method: 'DELETE', headers: h });
    expect(
      (await get<{ routes: Array<{ provider: string; pinned: boolean }> }>('/api/models/llama-3.3-70b')).body.routes.find((r) => r.provider === 'Together')!
        .pinned,
    ).toBe(false);
  });

  it('needs the admin token; an unknown model is a 404', async () => {
    expect((await get('/api/models', {})).status).toBe(401);
    expect((await get('/api/models/nope')).status).toBe(404);
  });
});

describe('POST /api/chat/test (the console playground)', () => {
  const body = { model: 'llama-3.3-70b', provider: 'Together', messages: [{ role: 'user', content: '你好' }] };

  it('answers like /v1, and says who answered', async () => {
    const res = await postJson(`${gw.url}/api/chat/test`, body, h);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('Together');
    const completion = await res.json();
    expectSchema('CreateChatCompletionResponse', completion);
  });

  it('streams like /v1', async () => {
    const res = await postJson(`${gw.url}/api/chat/test`, { ...body, stream: true }, h);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await readSse(res);
    expect(events.at(-1)).toBe('[DONE]');
    for (const e of events.slice(0, -1)) expectSchema('CreateChatCompletionStreamResponse', e);
  });

  it('needs the admin token even when /v1 is open', async () => {
    expect((await postJson(`${gw.url}/api/chat/test`, body)).status).toBe(401);
    expect((await postJson(`${gw.baseURL}/chat/completions`, body)).status).toBe(200);
  });
});
