import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { adminHeaders } from '../support/admin.ts';
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
  choices: { message: { content: string | null } }[];
}
interface SeedModel {
  id: string;
  owned_by: string;
}

const SEED_FILE = fileURLToPath(new URL('../../vendor/seed-catalog/seed-models.json', import.meta.url));
const CATALOG_FILE = fileURLToPath(new URL('./fixtures/catalog-overrides.yaml', import.meta.url));
const seed = (JSON.parse(readFileSync(SEED_FILE, 'utf8')) as { models: SeedModel[] }).models;
/** The shipped virtual models (models/auto-models.ts), listed after the catalog's. */
const AUTO_IDS = ['auto', 'auto-coder', 'auto-reasoning', 'auto-vision', 'auto-image'];

async function getJson<T>(url: string): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

const ask = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'ping' }], ...extra });

let emu: Emulator;
let plain: Gateway;
let edited: Gateway;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  [plain, edited] = await Promise.all([startGateway(emu), startGateway(emu, { CATALOG_FILE })]);
}, 30_000);

afterAll(async () => {
  await Promise.all([plain?.close(), edited?.close()]);
  await emu?.close();
});

describe('GET /v1/models (shipped catalog)', () => {
  let list: ModelList;

  beforeAll(async () => {
    const res = await getJson<ModelList>(`${plain.baseURL}/models`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    list = res.body;
  });

  it("has OpenAI's list shape", () => {
    expectSchema('ListModelsResponse', list);
    expect(list.object).toBe('list');
    for (const m of list.data) {
      expect(m.object).toBe('model');
      expect(Number.isInteger(m.created)).toBe(true);
    }
  });

  it("lists every one of the seed's 121 models, each once, with the seed's owned_by", () => {
    expect(seed).toHaveLength(121);
    const ids = list.data.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    const byId = new Map(list.data.map((m) => [m.id, m]));
    const missing = seed.filter((s) => !byId.has(s.id)).map((s) => s.id);
    expect(missing).toEqual([]);
    const wrongOwner = seed.filter((s) => byId.get(s.id)?.owned_by !== s.owned_by).map((s) => `${s.id}: ${byId.get(s.id)?.owned_by} != ${s.owned_by}`);
    expect(wrongOwner).toEqual([]);
  });
});

describe('GET /v1/models/{id}', () => {
  it('returns one Model object for a known id', async () => {
    const res = await getJson<ModelObject>(`${plain.baseURL}/models/gpt-4o-mini`);
    expect(res.status).toBe(200);
    expectSchema('Model', res.body);
    expect(res.body).toEqual({ id: 'gpt-4o-mini', object: 'model', created: expect.any(Number), owned_by: 'OpenAI' });
  });

  it('agrees with the list for every seed model', async () => {
    const list = (await getJson<ModelList>(`${plain.baseURL}/models`)).body;
    for (const s of seed) {
      const res = await getJson<ModelObject>(`${plain.baseURL}/models/${encodeURIComponent(s.id)}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(list.data.find((m) => m.id === s.id));
    }
  });

  it('answers 404 model_not_found in the OpenAI error envelope for an unknown id', async () => {
    const res = await getJson<ErrorEnvelope>(`${plain.baseURL}/models/no-such-model-xyz`);
    expect(res.status).toBe(404);
    expectSchema('ErrorResponse', res.body);
    expect(res.body.error.code).toBe('model_not_found');
    expect(res.body.error.type).toBe('invalid_request_error');
    expect(res.body.error.message).toContain('no-such-model-xyz');
  });
});

describe('CATALOG_FILE overrides', () => {
  let list: ModelList;

  beforeAll(async () => {
    list = (await getJson<ModelList>(`${edited.baseURL}/models`)).body;
    expectSchema('ListModelsResponse', list);
  });
  afterEach(() => emu.reset());

  it('adds a new model, with its owned_by, to /v1/models and /v1/models/{id}', async () => {
    expect(list.data.find((m) => m.id === 'acme/team-assistant')).toEqual({
      id: 'acme/team-assistant',
      object: 'model',
      created: expect.any(Number),
      owned_by: 'acme-labs',
    });
    const one = await getJson<ModelObject>(`${edited.baseURL}/models/acme/team-assistant`);
    expect(one.status).toBe(200);
    expectSchema('Model', one.body);
    expect(one.body.owned_by).toBe('acme-labs');
    // Only the overridden gateway knows it.
    expect((await getJson<ErrorEnvelope>(`${plain.baseURL}/models/acme/team-assistant`)).status).toBe(404);
  });

  it('routes the new model over its configured route', async () => {
    const res = await postJson(`${edited.baseURL}/chat/completions`, ask('acme/team-assistant'));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('Together');
    expect(res.headers.get('x-pool-upstream-model')).toBe('meta-llama/Llama-3.3-70B-Instruct-Turbo');
    const body = (await res.json()) as Completion;
    expect(body.model).toBe('meta-llama/Llama-3.3-70B-Instruct-Turbo');
    expect(body.choices[0]!.message.content).toBe('Hello from together (meta-llama/Llama-3.3-70B-Instruct-Turbo). You said: ping');
    const upstream = emu.requests('together');
    expect(upstream).toHaveLength(1);
    expect((upstream[0]!.body as { model: string }).model).toBe('meta-llama/Llama-3.3-70B-Instruct-Turbo');
  });

  it('hides a disabled model from the list, from lookup and from chat', async () => {
    expect(list.data.some((m) => m.id === 'gpt-4')).toBe(false);
    const one = await getJson<ErrorEnvelope>(`${edited.baseURL}/models/gpt-4`);
    expect(one.status).toBe(404);
    expect(one.body.error.code).toBe('model_not_found');
    const chat = await postJson(`${edited.baseURL}/chat/completions`, ask('gpt-4'));
    expect(chat.status).toBe(404);
    const err = (await chat.json()) as ErrorEnvelope;
    expectSchema('ErrorResponse', err);
    expect(err.error.code).toBe('model_not_found');
    expect(emu.requests()).toEqual([]);
    // The shipped catalog still has it.
    expect((await getJson<ModelObject>(`${plain.baseURL}/models/gpt-4`)).status).toBe(200);
  });

  it("keeps the rest of the shipped catalog: 127 (the seed's 121, 4 embedding and 2 speech-to-text models) - 1 disabled + 1 new, and the 5 auto models", () => {
    expect(list.data).toHaveLength(127 + AUTO_IDS.length);
    const ids = new Set(list.data.map((m) => m.id));
    expect(seed.filter((s) => s.id !== 'gpt-4' && !ids.has(s.id))).toEqual([]);
    // An override that only changes routes keeps the shipped owner.
    expect(list.data.find((m) => m.id === 'gpt-4o-mini')?.owned_by).toBe('OpenAI');
  });

  it('routes an overridden model only over its new routes', async () => {
    for (let i = 0; i < 8; i++) {
      const res = await postJson(`${edited.baseURL}/chat/completions`, ask('gpt-4o-mini'));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
      expect(res.headers.get('x-pool-upstream-model')).toBe('meta-llama/Llama-3.3-70B-Instruct-Turbo');
      await res.arrayBuffer();
    }
    expect(emu.requests('pollinations')).toEqual([]);
    const upstream = emu.requests('deepinfra');
    expect(upstream).toHaveLength(8);
    for (const r of upstream) expect((r.body as { model: string }).model).toBe('meta-llama/Llama-3.3-70B-Instruct-Turbo');

    // The old route is gone: forcing the shipped provider is refused before any upstream call.
    const forced = await postJson(`${edited.baseURL}/chat/completions`, ask('gpt-4o-mini', { provider: 'PollinationsAI' }));
    expect(forced.status).toBe(400);
    expect(((await forced.json()) as ErrorEnvelope).error.code).toBe('provider_model_mismatch');
    expect(emu.requests('pollinations')).toEqual([]);
  });

  it('leaves the shipped routing untouched without CATALOG_FILE', async () => {
    const res = await postJson(`${plain.baseURL}/chat/completions`, ask('gpt-4o-mini'));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('PollinationsAI');
    expect(res.headers.get('x-pool-upstream-model')).toBe('openai');
    await res.arrayBuffer();
  });
});

describe('GET /v1/models lists what can be served now', () => {
  // Each has a model Pollinations serves, so each is listed while Pollinations is.
  interface ModelWithState extends ModelObject {
    available: boolean;
    reason: string | null;
  }
  interface CatalogEntry {
    id: string;
    routes: { provider: string }[];
  }
  const catalog = (JSON.parse(readFileSync(new URL('../../catalog/models.json', import.meta.url), 'utf8')) as { models: CatalogEntry[] }).models;
  const servedBy = (provider: string) => catalog.filter((m) => m.routes.some((r) => r.provider === provider)).map((m) => m.id);
  let keyless: Gateway;

  // Only PollinationsAI needs no key: with the others' keys removed, only its models can be served.
  beforeAll(async () => {
    keyless = await startGateway(emu, { DEEPINFRA_API_KEY: '', TOGETHER_API_KEY: '', HUGGINGFACE_API_KEY: '', CLOUDFLARE_API_TOKEN: '' });
  });
  afterAll(() => keyless?.close());

  it('by default, only the models with a route to an enabled, configured provider', async () => {
    const res = await getJson<ModelList>(`${keyless.baseURL}/models`);
    expect(res.status).toBe(200);
    expectSchema('ListModelsResponse', res.body);
    const expected = servedBy('PollinationsAI');
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(catalog.length);
    expect(res.body.data.map((m) => m.id).sort()).toEqual([...expected, ...AUTO_IDS].sort());
    expect(res.body.data.every((m) => !('available' in m))).toBe(true);
  });

  it('with ?all=true, the whole catalog, each model saying whether it is available and why not', async () => {
    const res = await getJson<{ object: string; data: ModelWithState[] }>(`${keyless.baseURL}/models?all=true`);
    expect(res.status).toBe(200);
    expectSchema('ListModelsResponse', res.body);
    expect(res.body.data.map((m) => m.id).sort()).toEqual([...catalog.map((m) => m.id), ...AUTO_IDS].sort());
    const served = new Set([...servedBy('PollinationsAI'), ...AUTO_IDS]);
    for (const m of res.body.data) {
      expect(m.available).toBe(served.has(m.id));
      if (m.available) expect(m.reason).toBeNull();
      else expect(m.reason!.length).toBeLessThanOrEqual(300);
    }
    const deepinfraOnly = catalog.find((m) => m.routes.length === 1 && m.routes[0]!.provider === 'DeepInfra')!;
    expect(res.body.data.find((m) => m.id === deepinfraOnly.id)!.reason).toBe('DeepInfra: needs an API key (DEEPINFRA_API_KEY)');
    // The admin API says the same of every model.
    const admin = (await (await fetch(`${keyless.url}/api/models`, { headers: await adminHeaders(keyless) })).json()) as {
      models: { id: string; available: boolean; reason: string | null }[];
    };
    expect(admin.models.map(({ id, available, reason }) => ({ id, available, reason }))).toEqual(
      res.body.data.filter((m) => !AUTO_IDS.includes(m.id)).map(({ id, available, reason }) => ({ id, available, reason })),
    );
  });

  it('follows the console: a provider disabled there takes its models off the list at once', async () => {
    const auth = await adminHeaders(keyless);
    const off = await fetch(`${keyless.url}/api/providers/PollinationsAI`, { method: 'PATCH', headers: auth, body: JSON.stringify({ enabled: false }) });
    expect(off.status).toBe(200);
    try {
      expect((await getJson<ModelList>(`${keyless.baseURL}/models`)).body.data).toEqual([]);
      const all = (await getJson<{ data: ModelWithState[] }>(`${keyless.baseURL}/models?all=1`)).body.data;
      expect(all.find((m) => m.id === 'gpt-4o-mini')).toMatchObject({ available: false, reason: 'PollinationsAI: disabled by the operator' });
    } finally {
      await fetch(`${keyless.url}/api/providers/PollinationsAI`, { method: 'PATCH', headers: auth, body: JSON.stringify({ enabled: null }) });
    }
    expect((await getJson<ModelList>(`${keyless.baseURL}/models`)).body.data.length).toBe(servedBy('PollinationsAI').length + AUTO_IDS.length);
  });

  it('refuses an ?all that is not a flag, in the OpenAI error envelope', async () => {
    const res = await getJson<ErrorEnvelope>(`${keyless.baseURL}/models?all=yes-please`);
    expect(res.status).toBe(400);
    expectSchema('ErrorResponse', res.body);
    expect(res.body.error).toMatchObject({ param: 'all', code: 'invalid_value', type: 'invalid_request_error' });
  });
});
