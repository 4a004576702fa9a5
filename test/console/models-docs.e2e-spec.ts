/**
 * 模型浏览 and API 文档 in Chromium, against the real gateway and the provider emulators:
 *
 * - 模型浏览 lists the whole catalog (as many cards as `GET /api/models` says), the category chips
 *   filter with the API's counts, the search narrows to an id, the filters live in the URL, the
 *   copy button says 已复制; 刷新发现 reads the providers' model lists (the emulators'), after
 *   which routes show as 已发现, one the emulator no longer lists as 列表中没有, and pinning and
 *   unpinning that route works through the dialog;
 * - 模型别名 adds an alias, saves it (the gateway keeps it), shows the gateway's refusal of an
 *   unknown target, and 恢复默认 goes back to MODEL_ALIASES;
 * - API 文档 shows code with this server's own base URL, copies it, and its /docs link opens
 *   the API's Swagger UI (not the console);
 * - no console error, no request to another host; screenshots at desktop and phone width.
 */
import type { Page } from 'playwright-core';
import type { Emulator } from '../emulators/emulator.ts';
import { loadDefaultModelLists } from '../emulators/model-lists.ts';
import { adminHeaders } from '../support/admin.ts';
import type { Gateway } from '../support/gateway.ts';
import { apiModels, card, fitsWidth, startModelsWorld } from '../support/models-console.ts';
import { DESKTOP, PHONE, login, shot, text, watchErrors } from './browser.ts';
import type { ConsoleWorld } from './browser.ts';

declare const document: {
  querySelectorAll(selector: string): { length: number };
  querySelector(selector: string): { getAttribute(name: string): string | null } | null;
  getElementById(id: string): { getBoundingClientRect(): { top: number } } | null;
};
declare const navigator: { clipboard: { readText(): Promise<string> } };

/** A reasoning model whose DeepInfra route the test makes disappear from DeepInfra's model list. */
const MISSING_MODEL = 'deepseek-r1';
const MISSING_UPSTREAM = 'deepseek-ai/DeepSeek-R1';
/** A chat model whose routes all stay in the emulators' lists. */
const SEEN_MODEL = 'llama-3.3-70b';

const cards = (page: Page) => page.getByTestId('model-card');
const route = (page: Page, id: string, provider: string) => card(page, id).locator(`[data-testid="route"][data-provider="${provider}"]`);
const chip = (page: Page, category: string) => page.locator(`[data-testid="category-chip"][data-category="${category}"]`);

describe('模型浏览 and API 文档 in Chromium', () => {
  let world: ConsoleWorld;
  let emu: Emulator;
  let gw: Gateway;

  beforeAll(async () => {
    world = await startModelsWorld();
    ({ emu, gw } = world);
  }, 300_000);

  afterAll(() => world?.close());

  it('模型浏览: the whole catalog, chips, search in the URL, copy, discovery refresh, pin and unpin', async () => {
    const page = await world.context.newPage();
    const errors = watchErrors(page);
    await login(page, gw);
    const api = await apiModels(gw);
    expect(api.total).toBeGreaterThan(100);

    await page.locator('[data-nav="models"]').click();
    await page.waitForURL(/\/models$/);
    await cards(page).first().waitFor();

    // Every catalog model, as many as the API says.
    expect(await cards(page).count()).toBe(api.total);
    expect(await text(page, 'models-count')).toBe(`共 ${api.total} 个模型`);
    // Discovery has not run (DISCOVERY_INTERVAL_MINUTES=0): every route is 未知.
    expect(await route(page, SEEN_MODEL, 'DeepInfra').getAttribute('data-state')).toBe('unknown');
    expect(await page.locator('[data-testid="route"][data-state="confirmed"]').count()).toBe(0);

    // The chips carry the API's counts, and each filters to exactly its category.
    expect(await chip(page, 'all').innerText()).toContain(String(api.total));
    for (const c of api.categories) expect(await chip(page, c.id).innerText()).toMatch(new RegExp(`${c.label}\\s*${c.count}`));
    const image = api.categories.find((c) => c.id === 'image')!;
    await chip(page, 'image').click();
    await page.waitForURL(/\/models\?category=image$/);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="model-card"]').length === n, image.count);
    expect(await page.locator('[data-testid="model-card"]:not([data-category="image"])').count()).toBe(0);
    expect(await text(page, 'models-count')).toBe(`显示 ${image.count} / ${api.total} 个模型`);
    // Image routes are not judged by discovery: no pin button there.
    expect(await card(page, 'flux').getByTestId('pin-toggle').count()).toBe(0);

    // A search that finds nothing in 图像生成, then the same search in 全部.
    await page.getByTestId('model-search').fill(SEEN_MODEL);
    await page.getByTestId('models-empty').waitFor();
    await chip(page, 'all').click();
    await card(page, SEEN_MODEL).waitFor();
    const found = await page.locator('[data-testid="model-id"]').allInnerTexts();
    expect(found).toContain(SEEN_MODEL);
    expect(found.every((id) => id.includes('llama-3.3-70b'))).toBe(true);
    await page.waitForURL((url) => url.searchParams.get('q') === SEEN_MODEL && !url.searchParams.has('category'));

    // The filters survive a reload (they are in the URL).
    await page.goto(`${gw.url}/models?category=reasoning&q=${MISSING_MODEL}`);
    await card(page, MISSING_MODEL).waitFor();
    expect(await page.getByTestId('model-search').inputValue()).toBe(MISSING_MODEL);
    expect(await chip(page, 'reasoning').locator('[aria-selected="true"]').count()).toBe(1);
    expect(await chip(page, 'all').locator('[aria-selected="true"]').count()).toBe(0);
    expect(await page.locator('[data-testid="model-card"]:not([data-category="reasoning"])').count()).toBe(0);

    // Copy a model id.
    const copy = card(page, MISSING_MODEL).getByTestId('copy-model-id');
    await copy.click();
    await copy.getByText('已复制').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(MISSING_MODEL);

    // DeepInfra stops listing one upstream model; 刷新发现 reads every provider's list.
    emu.setModels(
      'deepinfra',
      loadDefaultModelLists().deepinfra.filter((id) => id !== MISSING_UPSTREAM),
    );
    await page.getByTestId('clear-filters').click();
    await page.waitForURL(/\/models$/);
    await page.getByTestId('refresh-discovery').click();
    await page.getByTestId('refresh-result').waitFor();
    expect(await text(page, 'refresh-result')).toMatch(/已读取 \d+ 个提供商的模型列表/);
    expect(emu.requests('deepinfra').some((r) => r.path.endsWith('/models'))).toBe(true);
    // A model whose upstream ids are in the emulators' lists: 已发现 on every route.
    for (const r of await card(page, SEEN_MODEL).getByTestId('route').all()) {
      expect(await r.getAttribute('data-state')).toBe('confirmed');
      expect(await r.getByTestId('route-state').innerText()).toBe('已发现');
    }
    // The one DeepInfra no longer lists: 列表中没有, skipped by routing.
    const missing = route(page, MISSING_MODEL, 'DeepInfra');
    expect(await missing.getAttribute('data-state')).toBe('missing');
    expect(await missing.getAttribute('data-usable')).toBe('false');
    expect(await missing.innerText()).toContain('路由时跳过');
    expect(await route(page, MISSING_MODEL, 'Together').getAttribute('data-state')).toBe('confirmed');

    await page.locator('[data-testid="model-card"]').first().scrollIntoViewIfNeeded();
    await shot(page, 'models-desktop');

    // Pin it: the dialog says what that does; the route is routed to again.
    await missing.getByTestId('pin-toggle').click();
    await page.getByRole('dialog').getByText('固定这条路由？').waitFor();
    await shot(page, 'models-pin-dialog-desktop');
    await page.getByTestId('pin-confirm').click();
    await page.waitForFunction(
      ([model]) => document.querySelector(`[data-model="${model}"] [data-provider="DeepInfra"]`)?.getAttribute('data-pinned') === 'true',
      [MISSING_MODEL],
    );
    expect(await missing.getAttribute('data-usable')).toBe('true');
    expect(await missing.getByTestId('pin-tag').innerText()).toContain('手动固定');
    const pinned = (await apiModels(gw)).models.find((m) => m.id === MISSING_MODEL)!.routes.find((r) => r.provider === 'DeepInfra')!;
    expect([pinned.pinned, pinned.pinnedBy, pinned.routable]).toEqual([true, 'operator', true]);
    await shot(page, 'models-pinned-desktop');

    // Unpin: the dialog warns that routing will stop, and it does.
    await missing.getByTestId('pin-toggle').click();
    await page.getByTestId('unpin-warning').waitFor();
    await page.getByTestId('pin-confirm').click();
    await page.waitForFunction(
      ([model]) => document.querySelector(`[data-model="${model}"] [data-provider="DeepInfra"]`)?.getAttribute('data-pinned') === 'false',
      [MISSING_MODEL],
    );
    expect(await missing.getAttribute('data-usable')).toBe('false');
    emu.reset();

    // The API stops answering: the page says so and recovers with 重试.
    const before = errors.length;
    await page.route('**/api/models', (r) => r.abort('connectionrefused'));
    await page.reload();
    await page.getByTestId('models-unreachable').waitFor();
    await page.unroute('**/api/models');
    await page.getByTestId('models-unreachable').getByRole('button', { name: '重试' }).click();
    await cards(page).first().waitFor();
    // Chromium logs the refused request itself; nothing else may have gone wrong.
    expect(errors.splice(before).filter((e) => !e.includes('ERR_CONNECTION_REFUSED'))).toEqual([]);

    // Phone width: one column, nothing wider than the screen.
    await page.setViewportSize(PHONE);
    await page.goto(`${gw.url}/models`);
    await cards(page).first().waitFor();
    await fitsWidth(page);
    await shot(page, 'models-phone');
    await page.goto(`${gw.url}/models?category=image`);
    await card(page, 'flux').waitFor();
    await fitsWidth(page);
    await shot(page, 'models-image-phone');
    await page.goto(`${gw.url}/models?q=${MISSING_MODEL}`);
    await card(page, MISSING_MODEL).waitFor();
    await fitsWidth(page);
    await shot(page, 'models-search-phone');
    await page.setViewportSize(DESKTOP);

    // The light theme.
    await page.getByTestId('theme-toggle').click();
    await shot(page, 'models-light-desktop');
    await page.getByTestId('theme-toggle').click();

    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('API 文档: code with the real base URL, copy buttons, a table of contents, and /docs is Swagger UI', async () => {
    const page = await world.context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${gw.url}/api-docs`);
    await page.getByTestId('docs-base-url').waitFor();

    const baseUrl = `${gw.url}/v1`;
    expect(await text(page, 'docs-base-url')).toBe(baseUrl);
    const chat = page.getByTestId('samples-chat');
    expect(await chat.getByTestId('code').innerText()).toContain(`base_url="${baseUrl}"`);
    // One language switch changes every sample on the page.
    // (Each read waits for the switch to render: a click's re-render is not synchronous with it.)
    const showing = (section: string, code: string) => page.getByTestId(section).getByTestId('code').filter({ hasText: code }).waitFor();
    await chat.locator('[data-snippet="curl"] button').click();
    await showing('samples-chat', `curl ${baseUrl}/chat/completions`);
    await showing('samples-images', `curl ${baseUrl}/images/generations`);
    await showing('samples-speech', `curl ${baseUrl}/audio/speech`);
    await chat.getByTestId('copy-code').click();
    await chat.getByTestId('copy-code').getByText('已复制').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toContain(`curl ${baseUrl}/chat/completions`);
    await page.getByTestId('samples-models').locator('[data-snippet="javascript"] button').click();
    await showing('samples-chat', `fetch("${baseUrl}/chat/completions"`);
    await chat.locator('[data-snippet="python"] button').click();

    // one-api's channel: this server's address without /v1, and the compose network's.
    const channel = await text(page, 'oneapi-channel');
    expect(channel).toContain('OpenAI');
    expect(channel).toContain(gw.url);
    expect(channel).not.toContain(`${gw.url}/v1`);
    expect(channel).toContain('http://freeapi-pool:8080');

    await shot(page, 'api-docs-desktop');

    // The table of contents scrolls to a section.
    await page.locator('[data-toc="one-api"]').click();
    await page.waitForFunction(() => {
      const el = document.getElementById('one-api');
      return !!el && el.getBoundingClientRect().top < 200;
    });

    // /docs is the API's Swagger UI, opened as a page of its own (not a console route).
    const link = page.getByTestId('swagger-link');
    expect(await link.getAttribute('href')).toBe('/docs');
    const [swagger] = await Promise.all([world.context.waitForEvent('page'), link.click()]);
    await swagger.waitForLoadState();
    await swagger.locator('.swagger-ui').first().waitFor();
    expect(new URL(swagger.url()).pathname).toMatch(/^\/docs\/?$/);
    expect(await swagger.title()).toBe('GPT4Free Pool API 文档');
    await swagger.locator('.swagger-ui .info .title').first().waitFor();
    await swagger.close();

    // Phone width.
    await page.setViewportSize(PHONE);
    await page.goto(`${gw.url}/api-docs`);
    await page.getByTestId('docs-base-url').waitFor();
    await fitsWidth(page);
    await shot(page, 'api-docs-phone');
    await shot(page, 'api-docs-full-phone', true);
    await page.setViewportSize(DESKTOP);
    await page.getByTestId('theme-toggle').click();
    await page.locator('[data-toc="chat"]').click();
    await shot(page, 'api-docs-light-desktop');
    await page.getByTestId('theme-toggle').click();

    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('模型别名: add an alias, save it, see it in effect, then go back to the defaults', async () => {
    const page = await world.context.newPage();
    const errors = watchErrors(page);
    // Signed in by the first test (the session is in this browser context's storage).
    await page.goto(`${gw.url}/models`);
    await page.getByTestId('aliases-panel').waitFor();
    expect(await text(page, 'aliases-source')).toBe('尚未设置别名');
    await page.getByTestId('alias-add').click();
    await page.getByTestId('alias-pattern').last().fill('claude-*');
    await page.getByTestId('alias-model').last().fill(SEEN_MODEL);
    await page.getByTestId('aliases-save').click();
    await page.getByText('已保存模型别名').waitFor();
    await page.getByTestId('aliases-reset').waitFor();
    const headers = await adminHeaders(gw);
    const saved = (await (await fetch(`${gw.url}/api/aliases`, { headers })).json()) as { source: string; aliases: unknown[] };
    expect(saved).toMatchObject({ source: 'console', aliases: [{ pattern: 'claude-*', model: SEEN_MODEL }] });

    // A target outside the catalog: the gateway's refusal is shown under the table.
    await page.getByTestId('alias-model').last().fill('no-such-model');
    await page.getByTestId('aliases-save').click();
    expect(await text(page, 'aliases-problems')).toContain('no-such-model');

    await page.getByTestId('aliases-reset').click();
    await page.getByText('已恢复默认别名').waitFor();
    expect(((await (await fetch(`${gw.url}/api/aliases`, { headers })).json()) as { source: string }).source).toBe('config');
    expect(await page.getByTestId('alias-row').count()).toBe(0);
    expect(errors.filter((e) => !e.includes('400'))).toEqual([]);
    await page.close();
  }, 120_000);

  it('never requested anything from another host', () => {
    expect(world.requested.length).toBeGreaterThan(20);
    expect(world.foreign()).toEqual([]);
  });
});
