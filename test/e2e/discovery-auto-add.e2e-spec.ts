/**
 * A catalog that keeps up (issue 18): with auto-add on for a provider (DISCOVERY_AUTO_ADD or the
 * console), a model its list has and the catalog lacks is added (marked discovered, served under
 * its upstream id), retired when the list drops it, and can be promoted to a curated entry that
 * stays after a restart with the same DATA_DIR.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdminModel, AdminModelList, DiscoveryAutoAddList, ModelList } from '#contracts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { loadDefaultModelLists, type ModelLists } from '../emulators/model-lists.ts';
import { adminHeaders } from '../support/admin.ts';
import { FIXED_ORDER_ENV, postJson, startGateway, type Gateway } from '../support/gateway.ts';

const NEW_ID = 'acme/Nimbus-13B-Instruct';
const auth = { authorization: 'Bearer x' };

let emu: Emulator;
let defaults: ModelLists;
beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  defaults = loadDefaultModelLists();
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => emu.reset());

const refresh = async (gw: Gateway, h: Record<string, string>, provider: string) => {
  const res = await fetch(`${gw.url}/api/discovery/refresh?provider=${provider}`, { method: 'POST', headers: h });
  expect(res.status).toBe(200);
};
const listed = async (gw: Gateway) => ((await (await fetch(`${gw.baseURL}/models`, { headers: auth })).json()) as ModelList).data.map((m) => m.id);
const adminModel = async (gw: Gateway, h: Record<string, string>, id: string) => {
  const list = (await (await fetch(`${gw.url}/api/models`, { headers: h })).json()) as AdminModelList;
  return list.models.find((m) => m.id === id);
};
const chat = (gw: Gateway, model: string) => postJson(`${gw.baseURL}/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] }, auth);

describe('discovery auto-add', () => {
  it('adds a model only the list has, serves it, retires it when the list drops it', async () => {
    const gw = await startGateway(emu, { ...FIXED_ORDER_ENV, DISCOVERY_AUTO_ADD: 'deepinfra' });
    try {
      const h = await adminHeaders(gw);
      emu.setModels('deepinfra', [...defaults.deepinfra, NEW_ID]);
      emu.setModels('together', [...defaults.together, 'acme/Only-On-Together']);
      await refresh(gw, h, 'DeepInfra');
      await refresh(gw, h, 'Together');

      const ids = await listed(gw);
      expect(ids).toContain(NEW_ID);
      // Auto-add is off for Together: its new model stays out.
      expect(ids).not.toContain('acme/Only-On-Together');
      // Models the catalog already has under another id, and image models, are not added again.
      expect(ids).not.toContain('meta-llama/Llama-3.3-70B-Instruct-Turbo');
      expect(ids).not.toContain('black-forest-labs/FLUX-1-dev');
      const shown = await adminModel(gw, h, NEW_ID);
      expect(shown).toMatchObject({ discovered: true, category: 'chat', owned_by: 'DeepInfra', available: true });
      expect(shown!.routes).toEqual([expect.objectContaining({ provider: 'DeepInfra', upstream_model: NEW_ID, state: 'confirmed' })]);
      const switches = (await (await fetch(`${gw.url}/api/discovery/auto-add`, { headers: h })).json()) as DiscoveryAutoAddList;
      expect(switches.providers.find((p) => p.provider === 'DeepInfra')).toEqual({ provider: 'DeepInfra', enabled: true, source: 'config', added: 1 });
      expect(switches.providers.find((p) => p.provider === 'Together')).toMatchObject({ enabled: false, added: 0 });

      const res = await chat(gw, NEW_ID.toLowerCase());
      expect(res.status).toBe(200);
      expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
      expect(res.headers.get('x-pool-upstream-model')).toBe(NEW_ID);

      // The console turns Together on: its model comes in at once, from the list already read.
      const on = await fetch(`${gw.url}/api/discovery/auto-add/together`, {
        method: 'PUT',
        headers: { ...h, 'content-type': 'application/json' },
        body: JSON.stringify({ enabled: true }),
      });
      expect(on.status).toBe(200);
      expect(((await on.json()) as DiscoveryAutoAddList).providers.find((p) => p.provider === 'Together')).toMatchObject({
        enabled: true,
        source: 'console',
        added: 1,
      });
      expect(await listed(gw)).toContain('acme/Only-On-Together');
      const bad = await fetch(`${gw.url}/api/discovery/auto-add/together`, {
        method: 'PUT',
        headers: { ...h, 'content-type': 'application/json' },
        body: JSON.stringify({ enabled: 'yes' }),
      });
      expect(bad.status).toBe(400);

      emu.setModels('deepinfra', [...defaults.deepinfra]);
      await refresh(gw, h, 'DeepInfra');
      expect(await listed(gw)).not.toContain(NEW_ID);
      const gone = await chat(gw, NEW_ID);
      expect(gone.status).toBe(404);
    } finally {
      await gw.close();
    }
  });

  it('promotes a discovered model to a curated entry that stays when the list drops it and after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'g4f-promote-'));
    const env = { ...FIXED_ORDER_ENV, DISCOVERY_AUTO_ADD: '*', DATA_DIR: dataDir };
    emu.setModels('deepinfra', [...defaults.deepinfra, NEW_ID]);
    let gw = await startGateway(emu, env);
    try {
      const h = await adminHeaders(gw);
      await refresh(gw, h, 'DeepInfra');
      const curated = await fetch(`${gw.url}/api/models/meta-llama%2FLlama-3.3-70B-Instruct-Turbo/promote`, { method: 'POST', headers: h });
      expect(curated.status).toBe(404);
      const notDiscovered = await fetch(`${gw.url}/api/models/llama-3.3-70b/promote`, { method: 'POST', headers: h });
      expect(notDiscovered.status).toBe(400);
      expect(((await notDiscovered.json()) as { error: { code: string } }).error.code).toBe('model_not_discovered');

      const promoted = await fetch(`${gw.url}/api/models/${encodeURIComponent(NEW_ID)}/promote`, { method: 'POST', headers: h });
      expect(promoted.status).toBe(200);
      const body = (await promoted.json()) as AdminModel;
      expect(body.id).toBe(NEW_ID);
      expect(body.discovered).toBeUndefined();

      // Off the list: a curated model stays, its route marked missing.
      emu.setModels('deepinfra', [...defaults.deepinfra]);
      await refresh(gw, h, 'DeepInfra');
      const kept = await adminModel(gw, h, NEW_ID);
      expect(kept?.routes[0]).toMatchObject({ upstream_model: NEW_ID, state: 'missing' });
      expect(kept?.discovered).toBeUndefined();
    } finally {
      await gw.close();
    }

    gw = await startGateway(emu, env);
    try {
      const h = await adminHeaders(gw);
      expect(await adminModel(gw, h, NEW_ID)).toMatchObject({ id: NEW_ID, owned_by: 'DeepInfra', category: 'chat' });
      emu.setModels('deepinfra', [...defaults.deepinfra, NEW_ID]);
      await refresh(gw, h, 'DeepInfra');
      const res = await chat(gw, NEW_ID);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-pool-upstream-model')).toBe(NEW_ID);
      expect((await adminModel(gw, h, NEW_ID))?.discovered).toBeUndefined();
    } finally {
      await gw.close();
    }
  });
});
