/**
 * 提供商管理's free-tier limits in Chromium, against the real gateway and the provider emulators:
 * a key's 额度 dialog shows what applies ("未知" where nothing is documented), sets a daily request
 * limit that the key's quota line then shows, and 恢复默认 takes it away again; the provider's
 * 额度设置 shows the server's objection in Chinese under the field; screenshots at desktop and
 * phone width.
 */
import type { Locator, Page } from 'playwright-core';
import { adminHeaders } from '../support/admin.ts';
import type { Gateway } from '../support/gateway.ts';
import { PHONE, dialogReady, login, shot, startConsoleWorld, watchErrors } from './browser.ts';
import type { ConsoleWorld } from './browser.ts';

describe('额度设置 in Chromium', () => {
  let world: ConsoleWorld;
  let gw: Gateway;
  let page: Page;
  let errors: string[];

  /** The dialog on top (the quota dialog opens over the provider's). */
  const keyRow = (): Locator => page.locator('[data-testid="key-row"]').first();
  const dayLine = (): Locator => keyRow().locator('[data-testid="key-quota"] li[data-limit="requests/day"]');

  /** The console's override of DeepInfra's first key, as the admin API has it. */
  async function keyOverride(): Promise<unknown> {
    const res = await fetch(`${gw.url}/api/quotas`, { headers: await adminHeaders(gw) });
    const body = (await res.json()) as { providers: Array<{ name: string; keys: Array<{ override: unknown }> }> };
    return body.providers.find((p) => p.name === 'DeepInfra')?.keys[0]?.override;
  }

  async function openKeyQuota(): Promise<Locator> {
    await keyRow().getByTestId('key-quota-edit').click();
    const d = await dialogReady(page);
    await d.getByTestId('quota-form').waitFor();
    return d;
  }

  beforeAll(async () => {
    world = await startConsoleWorld();
    ({ gw } = world);
    page = await world.context.newPage();
    errors = watchErrors(page);
    await login(page, gw);
    await page.locator('[data-nav="providers"]').click();
    await page.waitForURL(/\/providers$/);
    await page.locator('[data-testid="provider-row"][data-provider="DeepInfra"]').getByTestId('provider-key-count').click();
    await keyRow().waitFor();
  }, 300_000);

  afterAll(() => world?.close());

  it('sets a key’s daily request limit through 额度, and the key’s quota line shows it', async () => {
    expect(await dayLine().innerText()).toMatch(/^今日请求 \d+（上限未知）$/);
    const d = await openKeyQuota();
    const row = d.locator('[data-testid="quota-limit"][data-limit="requests/day"]');
    // DeepInfra documents no daily budget: unknown, not a number made up.
    expect(await row.getByTestId('quota-current').innerText()).toBe('当前生效：未知');
    expect(await d.getByTestId('quota-restore').count()).toBe(0);
    await row.locator('input').fill('5');
    await shot(page, 'quota-key-dialog-desktop');
    await d.getByTestId('quota-save').click();
    await page.locator('.mat-mdc-snack-bar-label').getByText('已保存密钥').first().waitFor();
    await page.locator('mat-dialog-container').nth(1).waitFor({ state: 'detached' });
    await page.waitForFunction(() => /\/ 5 · 剩余/.test(document.querySelector('[data-testid="key-quota"] li[data-limit="requests/day"]')?.textContent ?? ''));
    expect(await dayLine().innerText()).toMatch(/^今日请求 (\d+) \/ 5 · 剩余 \d+ · .+后重置$/);
    expect(await keyOverride()).toEqual({ 'requests/day': 5 });
  }, 60_000);

  it('the provider’s 额度设置 shows the server’s objection in Chinese under the field', async () => {
    await page.getByTestId('provider-quota-edit').click();
    const d = await dialogReady(page);
    await d.getByTestId('quota-form').waitFor();
    await d.getByTestId('quota-timeZone').fill('Mars/Olympus');
    await d.getByTestId('quota-save').click();
    await d.getByText('时区无效：请填写 IANA 时区名，如 UTC、Asia/Shanghai 或 America/Los_Angeles').waitFor();
    await shot(page, 'quota-provider-error-desktop');
    await d.getByTestId('quota-cancel').click();
    await page.locator('mat-dialog-container').nth(1).waitFor({ state: 'detached' });
  }, 60_000);

  it('恢复默认 takes the key’s limit away again; the dialog fits a phone', async () => {
    await page.setViewportSize(PHONE);
    const d = await openKeyQuota();
    const row = d.locator('[data-testid="quota-limit"][data-limit="requests/day"]');
    expect(await row.locator('input').inputValue()).toBe('5');
    expect(await row.getByTestId('quota-current').innerText()).toBe('当前生效：5');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
    await shot(page, 'quota-key-dialog-phone');
    await d.getByTestId('quota-restore').click();
    await page.locator('mat-dialog-container').nth(1).waitFor({ state: 'detached' });
    await page.waitForFunction(() => /上限未知/.test(document.querySelector('[data-testid="key-quota"] li[data-limit="requests/day"]')?.textContent ?? ''));
    expect(await dayLine().innerText()).toMatch(/^今日请求 \d+（上限未知）$/);
    expect(await keyOverride()).toBeNull();
    await page.setViewportSize({ width: 1440, height: 900 });
  }, 60_000);

  it('logged no errors in the browser but the refused time zone, and asked no other host', () => {
    // Chromium logs each 4xx answer: the one 400 is the time zone refused on purpose above.
    expect(errors).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    expect(world.foreign()).toEqual([]);
  });
});

declare const document: {
  documentElement: { scrollWidth: number; clientWidth: number };
  querySelector(selector: string): { textContent: string | null } | null;
};
