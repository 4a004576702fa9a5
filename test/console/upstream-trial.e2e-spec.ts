/**
 * 添加上游's 读取模型列表 and 测试 in Chromium, against the real gateway and the emulator acting as
 * the custom upstream: ids read before saving are picked into the model map, each key's test says
 * how it went in Chinese with the upstream's words beside, a typed key never shows on the page;
 * screenshots at desktop and phone width.
 */
import type { Locator, Page } from 'playwright-core';
import type { Emulator } from '../emulators/emulator.ts';
import type { Gateway } from '../support/gateway.ts';
import { PHONE, dialogReady, login, shot, startConsoleWorld, watchErrors } from './browser.ts';
import type { ConsoleWorld } from './browser.ts';

const GOOD_KEY = 'lab-good-key-1234';
/** Not key-shaped: the upstream echoes it, and only the trial's masking keeps it off the page. */
const BAD_KEY = 'lab-bad-key-9876';
const IDS = ['llama3.2', 'qwen2.5:7b', 'mistral-small', 'phi4-mini'];

describe('添加上游: 读取模型列表 and 测试 in Chromium', () => {
  let world: ConsoleWorld;
  let emu: Emulator;
  let gw: Gateway;
  let page: Page;
  let errors: string[];

  const dialog = (): Locator => page.locator('mat-dialog-container').last();

  beforeAll(async () => {
    world = await startConsoleWorld();
    ({ emu, gw } = world);
    emu.setModels('custom', IDS);
    page = await world.context.newPage();
    errors = watchErrors(page);
    await login(page, gw);
    await page.locator('[data-nav="providers"]').click();
    await page.waitForURL(/\/providers$/);
  }, 300_000);

  afterAll(() => world?.close());

  it('reads the model list of an upstream not saved yet and maps the picked ids', async () => {
    await page.getByTestId('add-upstream').click();
    // Typed before the dialog focused its first field, the key once landed in the name instead.
    const d = await dialogReady(page);
    await d.getByTestId('upstream-form').waitFor();
    await d.getByTestId('upstream-name').fill('lab-box');
    await d.getByTestId('upstream-baseUrl').fill(emu.baseUrl('custom'));
    await d.getByTestId('upstream-key').fill(GOOD_KEY);
    await d.getByTestId('upstream-read-models').click();
    await d.getByTestId('upstream-listed-id').first().waitFor();
    expect(await d.getByTestId('upstream-listed-id').allInnerTexts()).toEqual(IDS);
    expect(await d.getByTestId('upstream-listed').innerText()).toContain('上游列出 4 个模型（密钥 ****1234）');
    expect(emu.requests('custom').map((r) => r.headers.authorization)).toEqual([`Bearer ${GOOD_KEY}`]);

    await d.locator('[data-testid="upstream-listed-id"][data-id="qwen2.5:7b"]').click();
    await d.locator('[data-testid="upstream-listed-id"][data-id="phi4-mini"]').click();
    await d.getByTestId('upstream-add-picked').click();
    await d.getByTestId('upstream-model-id').nth(1).waitFor();
    const ids = await d.getByTestId('upstream-model-id').evaluateAll((inputs) => inputs.map((i) => (i as unknown as { value: string }).value));
    expect(ids).toEqual(['qwen2.5:7b', 'phi4-mini']);
    // Mapped ids stay shown as chosen, and can no longer be picked twice.
    expect(await d.locator('[data-testid="upstream-listed-id"][data-id="phi4-mini"]').getAttribute('class')).toContain('disabled');
    await shot(page, 'upstream-trial-models-desktop');
  }, 60_000);

  it('测试 says per key how it went: a refused key in Chinese with the upstream’s words, the key masked', async () => {
    const d = dialog();
    emu.addFault({ provider: 'custom', mode: 'status', status: 401, key: BAD_KEY, message: `Incorrect API key provided: ${BAD_KEY}` });
    await d.getByTestId('upstream-key').fill(BAD_KEY);
    await d.getByTestId('upstream-test').click();
    const result = d.getByTestId('upstream-key-result');
    await result.first().waitFor();
    expect(await result.count()).toBe(1);
    expect(await result.first().getAttribute('data-ok')).toBe('false');
    const text = await result.first().innerText();
    expect(text).toContain('****9876');
    expect(text).toContain('HTTP 401 · 上游拒绝了密钥（HTTP 401）');
    expect(text).toContain('Incorrect API key provided: ****9876');
    expect(await d.innerText()).not.toContain(BAD_KEY);
    // The one-token chat went to the first mapped model.
    expect(emu.requests('custom').at(-1)?.body).toMatchObject({ model: 'qwen2.5:7b', max_tokens: 1 });

    await d.getByTestId('upstream-key').fill(GOOD_KEY);
    await d.getByTestId('upstream-test').click();
    await d.locator('[data-testid="upstream-key-result"][data-ok="true"]').waitFor();
    expect(await d.getByTestId('upstream-key-verdict').innerText()).toBe('HTTP 200 · 成功');
    await shot(page, 'upstream-trial-test-desktop');
  }, 60_000);

  it('an upstream that answers HTML is named as such; the upstream is saved with the picked models', async () => {
    const d = dialog();
    emu.addFault({ provider: 'custom', mode: 'html200', path: 'models', times: 1 });
    await d.getByTestId('upstream-read-models').click();
    await d.locator('[data-testid="upstream-listed"][data-ok="false"]').waitFor();
    expect(await d.getByTestId('upstream-listed').innerText()).toContain('读取失败：上游返回了 HTML 网页而不是 API 响应');
    await shot(page, 'upstream-trial-html-desktop');

    await d.getByTestId('upstream-save').click();
    await page.locator('mat-dialog-container').waitFor({ state: 'detached' });
    const row = page.locator('[data-testid="provider-row"][data-provider="lab-box"]');
    await row.waitFor();
    expect(await row.innerText()).toContain('2 个模型');
  }, 60_000);

  it('after saving, at phone width: the saved key is used on its own host, and the dialog fits', async () => {
    await page.setViewportSize(PHONE);
    const before = emu.requests('custom').length;
    await page.locator('[data-testid="provider-row"][data-provider="lab-box"]').getByTestId('provider-settings').click();
    const d = await dialogReady(page);
    await d.getByTestId('upstream-form').waitFor();
    await d.getByTestId('upstream-test').click();
    await d.locator('[data-testid="upstream-key-result"][data-ok="true"]').waitFor();
    expect(await d.getByTestId('upstream-key-result').innerText()).toContain('****1234');
    expect(await d.getByTestId('upstream-key-result').innerText()).toContain('已保存');
    expect(
      emu
        .requests('custom')
        .slice(before)
        .map((r) => r.headers.authorization),
    ).toEqual([`Bearer ${GOOD_KEY}`]);
    await d.getByTestId('upstream-read-models').click();
    await d.getByTestId('upstream-listed-id').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
    await shot(page, 'upstream-trial-phone');
    await d.getByTestId('dialog-close').click();
    await page.locator('mat-dialog-container').waitFor({ state: 'detached' });
    await page.setViewportSize({ width: 1440, height: 900 });
  }, 60_000);

  it('logged no errors in the browser, and asked no other host', () => {
    expect(errors).toEqual([]);
    expect(world.foreign()).toEqual([]);
  });
});

declare const document: { documentElement: { scrollWidth: number; clientWidth: number } };
