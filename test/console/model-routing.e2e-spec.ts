/**
 * 模型浏览's 路由设置 in Chromium, against the real gateway and the provider emulators:
 *
 * - the dialog lists a model's routes in the order routing uses them, each with its weight and the
 *   provider's defaults, and says what the strategy in force makes of them;
 * - reordering under `priority` changes who answers that model (the gateway's `x-pool-provider`),
 *   and only that model; a weight outside 0–100 cannot be saved;
 * - 强制 sends the model to one provider, the card says so (with what happens when it cannot
 *   serve), and the route carries a 强制 tag; 恢复默认 goes back to the providers' settings;
 * - the 固定 dialog says that 固定 is not 强制 and where 强制 is;
 * - no console error, no request to another host; screenshots at desktop and phone width.
 */
import type { Locator, Page } from 'playwright-core';
import type { ModelRouting } from '#contracts';
import { adminHeaders } from '../support/admin.ts';
import { postJson, type Gateway } from '../support/gateway.ts';
import { PHONE, DESKTOP, dialogReady, login, shot, startConsoleWorld, watchErrors } from './browser.ts';
import type { ConsoleWorld } from './browser.ts';

declare const document: { documentElement: { scrollWidth: number; clientWidth: number } };

/** Served by DeepInfra, Together, HuggingFace and Pollinations, in that catalog order. */
const MODEL = 'llama-3.3-70b';
/** Served by DeepInfra and Together. */
const OTHER = 'deepseek-v3';

describe('模型浏览 路由设置 in Chromium', () => {
  let world: ConsoleWorld;
  let gw: Gateway;
  let page: Page;
  let errors: string[];

  const card = (id: string): Locator => page.locator(`[data-testid="model-card"][data-model="${id}"]`);
  const dialog = (): Locator => page.locator('mat-dialog-container').last();
  const rows = (): Locator => dialog().getByTestId('routing-row');
  const snackbar = (text: string): Promise<void> => page.locator('.mat-mdc-snack-bar-label').getByText(text).first().waitFor();

  async function answeredBy(model: string): Promise<string | null> {
    const res = await postJson(`${gw.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: '你好' }] });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    return res.headers.get('x-pool-provider');
  }

  async function stored(model: string): Promise<ModelRouting> {
    const res = await fetch(`${gw.url}/api/routing/models/${model}`, { headers: await adminHeaders(gw) });
    return (await res.json()) as ModelRouting;
  }

  async function openEditor(model: string): Promise<void> {
    await card(model).getByTestId('routing-edit').click();
    await dialogReady(page);
    await dialog().getByTestId('routing-dialog').waitFor();
  }

  async function fitsWidth(): Promise<void> {
    const { scrollWidth, clientWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
  }

  beforeAll(async () => {
    // Priority routing with no priorities set: the catalog's order decides, so who answers is certain.
    world = await startConsoleWorld({ ROUTING_STRATEGY: 'priority' });
    ({ gw } = world);
    page = await world.context.newPage();
    errors = watchErrors(page);
    await login(page, gw);
    await page.goto(`${gw.url}/models?q=llama-3.3`);
    await card(MODEL).waitFor();
  }, 300_000);

  afterAll(() => world?.close());

  it('shows the routes in order with their weights and what the strategy makes of them; reordering changes who answers', async () => {
    expect(await answeredBy(MODEL)).toBe('DeepInfra');
    await openEditor(MODEL);
    expect(await rows().evaluateAll((els) => els.map((e) => e.getAttribute('data-provider')))).toEqual([
      'DeepInfra',
      'Together',
      'HuggingFace',
      'PollinationsAI',
    ]);
    expect(await dialog().getByTestId('routing-effect').innerText()).toContain('这里的顺序生效');
    expect(await dialog().getByTestId('force-help').innerText()).toContain('照常故障转移到其他路由');
    // A bad weight cannot be saved, and says why.
    const weight = rows().nth(1).getByTestId('routing-weight');
    await weight.fill('101');
    await dialog().getByText('权重是 0–100 的整数').waitFor();
    expect(await dialog().getByTestId('routing-save').isDisabled()).toBe(true);
    await weight.fill('3');
    // Together up: first.
    await rows().nth(1).getByTestId('routing-up').click();
    // The list is drawn again after the click, not during it: wait for the new order (CI once read the old one).
    await rows().first().and(page.locator('[data-provider="Together"]')).waitFor({ timeout: 5000 });
    expect(await rows().evaluateAll((els) => els.map((e) => e.getAttribute('data-provider')))).toEqual([
      'Together',
      'DeepInfra',
      'HuggingFace',
      'PollinationsAI',
    ]);
    await shot(page, 'models-routing-dialog-desktop');
    await dialog().getByTestId('routing-save').click();
    await snackbar(`已保存 ${MODEL} 的路由设置。`);
    await card(MODEL).getByTestId('custom-routing-tag').waitFor();

    const saved = await stored(MODEL);
    expect(saved.custom).toBe(true);
    expect(saved.routes.slice(0, 2).map((r) => [r.provider, r.weight, r.position])).toEqual([
      ['Together', 3, 1],
      ['DeepInfra', 1, 2],
    ]);
    for (let i = 0; i < 5; i++) expect(await answeredBy(MODEL)).toBe('Together');
    // Another model keeps the catalog's order.
    expect(await answeredBy(OTHER)).toBe('DeepInfra');
  }, 60_000);

  it('强制 sends the model to one provider, and the card and the route say so; 恢复默认 undoes everything', async () => {
    await openEditor(MODEL);
    await dialog().getByTestId('routing-forced').click();
    await page.getByRole('option', { name: 'HuggingFace' }).click();
    await dialog().getByTestId('routing-save').click();
    await snackbar(`已保存 ${MODEL} 的路由设置：强制先用 HuggingFace。`);
    const tag = card(MODEL).getByTestId('forced-tag');
    await tag.waitFor();
    expect(await tag.innerText()).toBe('强制 → HuggingFace');
    expect(await card(MODEL).locator('[data-testid="route"][data-forced="true"]').getAttribute('data-provider')).toBe('HuggingFace');
    for (let i = 0; i < 5; i++) expect(await answeredBy(MODEL)).toBe('HuggingFace');
    // The order set before is kept (choosing 强制 alone does not touch it).
    expect((await stored(MODEL)).routes[0]).toMatchObject({ provider: 'Together', weight: 3 });
    await card(MODEL).scrollIntoViewIfNeeded();
    await shot(page, 'models-routing-forced-desktop');

    // The 固定 dialog says 固定 is not 强制, and where 强制 is.
    await card(MODEL).locator('[data-testid="route"][data-provider="Together"]').getByTestId('pin-toggle').click();
    expect(await dialog().getByTestId('pin-not-force').innerText()).toContain('路由设置');
    await dialog().getByRole('button', { name: '取消' }).click();
    await page.locator('mat-dialog-container').waitFor({ state: 'detached' });

    await openEditor(MODEL);
    await dialog().getByTestId('routing-reset').click();
    await snackbar(`${MODEL} 已恢复为按提供商的设置路由。`);
    await card(MODEL).getByTestId('forced-tag').waitFor({ state: 'detached' });
    expect(await card(MODEL).getByTestId('custom-routing-tag').count()).toBe(0);
    expect(await stored(MODEL)).toMatchObject({ custom: false, forced: null });
    expect(await answeredBy(MODEL)).toBe('DeepInfra');
  }, 60_000);

  it('the provider detail view shows its 成功率 and latency per model over the range chosen', async () => {
    // Together answered llama-3.3-70b while it was first; one of its attempts at deepseek-v3 now fails.
    world.emu.addFault({ provider: 'together', mode: 'status', status: 500, times: 10 });
    const res = await postJson(`${gw.url}/v1/chat/completions`, { model: OTHER, provider: 'Together', messages: [{ role: 'user', content: '你好' }] });
    await res.arrayBuffer();
    expect(res.status).toBeGreaterThanOrEqual(500);
    world.emu.clearFaults();

    await page.locator('[data-nav="providers"]').click();
    await page.waitForURL(/\/providers$/);
    await page.locator('[data-testid="provider-row"][data-provider="Together"]').getByTestId('provider-details').click();
    const overview = dialog().getByTestId('provider-overview');
    const model = (id: string) => overview.locator(`[data-testid="overview-model-row"][data-model="${id}"]`);
    await model(MODEL).waitFor();
    expect((await model(MODEL).innerText()).split(/\s+/).slice(0, 3)).toEqual([MODEL, '5', '100%']);
    const other = (await model(OTHER).innerText()).split(/\s+/);
    expect(other[0]).toBe(OTHER);
    expect(Number(other[1])).toBeGreaterThanOrEqual(1);
    expect(other[2]).toBe('0%');
    // 成功率 is defined where it is shown.
    await overview.getByText('成功率', { exact: true }).hover();
    await page
      .locator('.mat-mdc-tooltip')
      .getByText(/成功次数 \/ 尝试次数/)
      .waitFor();
    await shot(page, 'providers-detail-models-desktop');
    await overview.getByTestId('overview-models-range').getByText('1 小时').click();
    await model(MODEL).waitFor();
    await page.setViewportSize(PHONE);
    await fitsWidth();
    await shot(page, 'providers-detail-models-phone');
    await page.setViewportSize(DESKTOP);
    await dialog().getByTestId('dialog-close').click();
    await page.locator('mat-dialog-container').waitFor({ state: 'detached' });
    await page.goto(`${gw.url}/models?q=llama-3.3`);
    await card(MODEL).waitFor();
  }, 60_000);

  it('at phone width: the card and the dialog fit', async () => {
    await page.setViewportSize(PHONE);
    await card(MODEL).waitFor();
    await fitsWidth();
    await openEditor(MODEL);
    await fitsWidth();
    await shot(page, 'models-routing-dialog-phone');
    await dialog().getByRole('button', { name: '取消' }).click();
    await page.locator('mat-dialog-container').waitFor({ state: 'detached' });
    await page.setViewportSize(DESKTOP);
  }, 60_000);

  it('logged no errors in the browser and asked no other host', () => {
    expect(errors).toEqual([]);
    expect(world.foreign()).toEqual([]);
  });
});
