/**
 * 模型浏览's issue-18 parts in Chromium, against the real gateway and the provider emulators:
 *
 * - 虚拟模型（auto）: the built-in virtual models are shown; one is edited and saved (the gateway
 *   serves it), a model outside the catalog is refused with the gateway's words, 恢复默认 goes back;
 * - 模型发现: 自动添加 turned on for DeepInfra adds the model only its list has, shown as 自动发现
 *   with its upstream id; 转为正式 makes it a curated entry (the tag goes, the gateway keeps it);
 * - no console error, no request to another host; screenshots at desktop and phone width.
 */
import type { AutoModelList } from '#contracts';
import type { Emulator } from '../emulators/emulator.ts';
import { loadDefaultModelLists } from '../emulators/model-lists.ts';
import { adminHeaders } from '../support/admin.ts';
import { postJson, type Gateway } from '../support/gateway.ts';
import { apiModels, card, fitsWidth, startModelsWorld } from '../support/models-console.ts';
import { DESKTOP, PHONE, login, shot, text, watchErrors } from './browser.ts';
import type { ConsoleWorld } from './browser.ts';

const NEW_ID = 'acme/Nimbus-13B-Instruct';

describe('模型浏览: auto models and discovery auto-add in Chromium', () => {
  let world: ConsoleWorld;
  let emu: Emulator;
  let gw: Gateway;

  beforeAll(async () => {
    world = await startModelsWorld();
    ({ emu, gw } = world);
  }, 300_000);

  afterAll(() => world?.close());

  it('虚拟模型: edit and save a preference list, see it served, be refused an unknown model, go back to the defaults', async () => {
    const page = await world.context.newPage();
    const errors = watchErrors(page);
    await login(page, gw);
    await page.goto(`${gw.url}/models`);
    await page.getByTestId('auto-models-panel').waitFor();
    expect(await text(page, 'auto-models-source')).toContain('内置的虚拟模型');
    const ids = await page.getByTestId('auto-model-id').evaluateAll((inputs) => inputs.map((i) => (i as unknown as { value: string }).value));
    expect(ids).toEqual(['auto', 'auto-coder', 'auto-reasoning', 'auto-vision', 'auto-image']);

    await page.getByTestId('auto-model-add').click();
    await page.getByTestId('auto-model-id').last().fill('auto-mine');
    await page.getByTestId('auto-model-prefs').last().fill('qwen-3-235b, deepseek-v3');
    await page.getByTestId('auto-models-save').click();
    await page.getByText('已保存虚拟模型').waitFor();
    await page.getByTestId('auto-models-reset').waitFor();
    const headers = await adminHeaders(gw);
    const saved = (await (await fetch(`${gw.url}/api/auto-models`, { headers })).json()) as AutoModelList;
    expect(saved.source).toBe('console');
    expect(saved.models.at(-1)).toEqual({ id: 'auto-mine', kind: 'chat', models: ['qwen-3-235b', 'deepseek-v3'], others: false, vision: false });
    const served = await postJson(
      `${gw.baseURL}/chat/completions`,
      { model: 'auto-mine', messages: [{ role: 'user', content: 'hi' }] },
      { authorization: 'Bearer x' },
    );
    expect(served.status).toBe(200);
    expect(served.headers.get('x-pool-upstream-model')).toBe('Qwen/Qwen3-235B');

    await page.setViewportSize(PHONE);
    await page.getByTestId('auto-models-panel').scrollIntoViewIfNeeded();
    await fitsWidth(page);
    await shot(page, 'models-auto-phone');
    await page.setViewportSize(DESKTOP);
    await page.getByTestId('auto-models-panel').scrollIntoViewIfNeeded();
    await shot(page, 'models-auto-desktop');

    // A model outside the catalog: the gateway's refusal is shown under the table.
    await page.getByTestId('auto-model-prefs').last().fill('no-such-model');
    await page.getByTestId('auto-models-save').click();
    expect(await text(page, 'auto-models-problems')).toContain('no-such-model');

    await page.getByTestId('auto-models-reset').click();
    await page.getByText('已恢复默认虚拟模型').waitFor();
    expect(((await (await fetch(`${gw.url}/api/auto-models`, { headers })).json()) as AutoModelList).source).toBe('config');
    expect(await page.getByTestId('auto-model-row').count()).toBe(5);
    expect(errors.filter((e) => !e.includes('400'))).toEqual([]);
    await page.close();
  }, 120_000);

  it('模型发现: 自动添加 adds a listed model as 自动发现, 转为正式 keeps it', async () => {
    emu.setModels('deepinfra', [...loadDefaultModelLists().deepinfra, NEW_ID]);
    const page = await world.context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${gw.url}/models`);
    await page.getByTestId('discovery-panel').waitFor();
    await page.getByTestId('refresh-discovery').click();
    await page.getByTestId('refresh-result').waitFor();
    const details = page.locator('#discovery-details');
    if (!(await details.isVisible())) await page.getByTestId('discovery-toggle').click();
    const toggle = page.locator('li[data-provider="DeepInfra"] [data-testid="auto-add-toggle"]');
    await toggle.waitFor();
    expect(await toggle.isChecked()).toBe(false);
    await toggle.check();
    await page.getByText('DeepInfra：已开启自动添加').waitFor();
    await page.locator('li[data-provider="DeepInfra"] [data-testid="auto-add-count"]').waitFor();
    expect(await page.locator('li[data-provider="DeepInfra"] [data-testid="auto-add-count"]').innerText()).toContain('已加入 1 个');

    await page.getByTestId('model-search').fill('nimbus');
    const found = card(page, NEW_ID);
    await found.waitFor();
    expect(await found.getByTestId('discovered-tag').innerText()).toBe('自动发现');
    expect(await found.locator('[data-testid="route"][data-provider="DeepInfra"] .upstream').innerText()).toBe(NEW_ID);
    await shot(page, 'models-discovered-desktop', true);
    await page.setViewportSize(PHONE);
    await fitsWidth(page);
    await shot(page, 'models-discovered-phone', true);
    await page.setViewportSize(DESKTOP);

    await found.getByTestId('promote-model').click();
    await page.getByText(`${NEW_ID} 已转为正式模型。`).waitFor();
    await found.getByTestId('promote-model').waitFor({ state: 'detached' });
    expect(await found.getByTestId('discovered-tag').count()).toBe(0);
    const list = await apiModels(gw);
    expect(list.models.find((m) => m.id === NEW_ID)).toMatchObject({ owned_by: 'DeepInfra' });
    expect(list.models.find((m) => m.id === NEW_ID)!.discovered).toBeUndefined();
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('never requested anything from another host', () => {
    expect(world.requested.length).toBeGreaterThan(10);
    expect(world.foreign()).toEqual([]);
  });
});
