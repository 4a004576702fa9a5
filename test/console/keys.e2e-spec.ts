/**
 * API 密钥 in Chromium against the real gateway: /v1 is open while no key exists; a key made in
 * the page (its secret read from the one-time dialog) is accepted by /v1 and turns the key
 * requirement on; its usage shows up by itself; renaming, limiting and quotas work; revoking it in the
 * page makes /v1 refuse it while the other key keeps working. Screenshots at desktop and phone width.
 */
import type { Page } from 'playwright-core';
import { postJson } from '../support/gateway.ts';
import type { Gateway } from '../support/gateway.ts';
import { DESKTOP, PHONE, dialogReady, login, shot, startConsoleWorld, text, watchErrors } from './browser.ts';
import type { ConsoleWorld } from './browser.ts';

declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
};

interface ChatResult {
  status: number;
  code: string | null;
  message: string | null;
}

/** A chat completion from outside the browser, with this bearer key (or none). */
async function chat(gw: Gateway, key?: string): Promise<ChatResult> {
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'llama-3.3-70b', messages: [{ role: 'user', content: '你好' }] }, headers);
  const body = (await res.json()) as { error?: { code: string | null; message: string } };
  return { status: res.status, code: body.error?.code ?? null, message: body.error?.message ?? null };
}

/** The row (table row or card) of the key with this name. */
const row = (page: Page, name: string) => page.getByTestId('key-row').filter({ has: page.getByTestId('key-name-cell').getByText(name, { exact: true }) });

/** Creates a key through the page's dialog (open) and returns the secret it shows. */
async function createKey(page: Page, name: string, rpm: string, screenshot?: string): Promise<string> {
  await dialogReady(page);
  await page.getByTestId('key-name').fill(name);
  await page.getByTestId('key-rpm').fill(rpm);
  await page.getByTestId('key-form-submit').click();
  // The dialog's node is attached before its first change detection fills it in: wait for the text.
  const secret = (await page.getByTestId('created-secret').filter({ hasText: /\S/ }).innerText()).trim();
  await page.getByTestId('copy-secret').click();
  await page.getByTestId('copy-secret').getByText('已复制').waitFor();
  if (screenshot) await shot(page, screenshot);
  await page.getByTestId('secret-done').click();
  await page.getByTestId('created-secret').waitFor({ state: 'detached' });
  return secret;
}

describe('API 密钥 in Chromium', () => {
  let world: ConsoleWorld;
  let gw: Gateway;

  beforeAll(async () => {
    world = await startConsoleWorld();
    gw = world.gw;
  }, 300_000);

  afterAll(() => world?.close());

  it('creates a key whose one-time secret /v1 accepts, and revokes it so that /v1 refuses it', async () => {
    const page = await world.context.newPage();
    const errors = watchErrors(page);
    await login(page, gw);

    // No key yet: /v1 is open (no API_KEY in this gateway's environment), and the page says why.
    expect((await chat(gw)).status).toBe(200);
    await page.locator('[data-nav="keys"]').click();
    await page.waitForURL(/\/keys$/);
    await page.getByTestId('keys-empty').waitFor();
    expect(await text(page, 'keys-empty')).toContain('API_KEY');
    await shot(page, 'keys-empty-desktop');

    // The first key: the form warns that /v1 will need keys from now on.
    await page.getByTestId('create-first-key').click();
    await dialogReady(page);
    await page.getByTestId('first-key-note').waitFor();
    // The form checks its fields before sending.
    await page.getByTestId('key-rpm').fill('0');
    await page.getByTestId('key-form-submit').click();
    await page.getByText('请填写名称。').waitFor();
    await page.getByText('请填写 1 到 1,000,000 之间的整数').waitFor();
    const secret = await createKey(page, '团队 A', '60', 'keys-secret-desktop');
    expect(secret).toMatch(/^sk-g4f-[\w-]{43}$/);

    // Listed with its mask, never its secret; /v1 now asks for a key.
    await row(page, '团队 A').waitFor();
    expect(await row(page, '团队 A').getByTestId('key-rpm-cell').innerText()).toBe('60 次/分钟');
    expect(await row(page, '团队 A').getByTestId('key-status').innerText()).toBe('有效');
    expect(await page.locator('body').innerText()).not.toContain(secret);
    // The mask shows the non-secret prefix and at most the last 4 characters of the secret.
    expect((await row(page, '团队 A').locator('code.masked').first().textContent())?.trim()).toBe(`sk-g4f-…${secret.slice(-4)}`);
    await page.locator('[data-access="keys-required"]').waitFor();

    expect(await chat(gw)).toMatchObject({ status: 401, code: 'missing_api_key' });
    expect(await chat(gw, 'sk-g4f-not-a-real-key')).toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect((await chat(gw, secret)).status).toBe(200);
    expect((await chat(gw, secret)).status).toBe(200);

    // Its usage arrives on a later poll, without a reload (written in batches, a few seconds late).
    await page.waitForFunction(
      () => {
        const cell = document.querySelector('[data-testid="key-row"] [data-testid="key-requests"]');
        return cell?.textContent?.trim() === '2';
      },
      null,
      { timeout: 30_000 },
    );

    // 用量: the key's own chart (live stats: both requests are in it), 7 days, then 90.
    await row(page, '团队 A').getByTestId('key-usage').click();
    const totals = page.getByTestId('key-usage-totals');
    await totals.waitFor();
    expect(await totals.locator('dd').first().innerText()).toBe('2');
    expect(await page.getByTestId('key-usage-chart').getAttribute('aria-label')).toMatch(/^近 7 天共 2 次请求，失败 0 次/);
    await shot(page, 'keys-usage-desktop');
    await page.getByTestId('key-usage-range').getByRole('radio', { name: '90 天' }).click();
    await page.locator('[data-testid="key-usage-chart"][aria-label^="近 90 天"]').waitFor();
    await page.getByRole('button', { name: '关闭' }).click();
    await totals.waitFor({ state: 'detached' });

    // A second key, and an edit of the first: a new name and no limit.
    await page.getByTestId('create-key').click();
    const other = await createKey(page, 'Open WebUI', '');
    await row(page, 'Open WebUI').waitFor();
    await row(page, '团队 A').getByTestId('edit-key').click();
    await dialogReady(page);
    expect(await page.getByTestId('key-rpm').inputValue()).toBe('60');
    await page.getByTestId('key-name').fill('团队 A（生产）');
    await page.getByTestId('key-rpm').fill('');
    await page.getByTestId('key-form-submit').click();
    await page.getByText('已保存「团队 A（生产）」').waitFor();
    // Waited for, not read at once: under CI load the row once still showed 60 次/分钟 right after the
    // notice (a refresh racing the saved answer); it must settle on 不限 within a poll or two.
    await row(page, '团队 A（生产）').getByTestId('key-rpm-cell').getByText('不限', { exact: true }).waitFor({ timeout: 12_000 });

    // Quotas and limits are set in the same dialog; the row shows what is used and left.
    await row(page, 'Open WebUI').getByTestId('edit-key').click();
    // Typed before the dialog focused its first field, '100' once landed in the name instead.
    await dialogReady(page);
    await page.getByTestId('key-requestsPerDay').fill('100');
    await page.getByTestId('key-allowedModels').fill('llama-*');
    await page.getByTestId('key-form-submit').click();
    await page.getByText('已保存「Open WebUI」').waitFor();
    expect((await chat(gw, other)).status).toBe(200);
    const limits = row(page, 'Open WebUI').getByTestId('key-limits');
    await limits.getByText('每日请求数 1 / 100（剩 99）').waitFor({ timeout: 12_000 });
    expect(await limits.innerText()).toContain('模型：llama-*');

    // Revoke, after a confirmation; cancelling first changes nothing.
    await row(page, '团队 A（生产）').getByTestId('revoke-key').click();
    await page.getByRole('button', { name: '取消' }).click();
    expect((await chat(gw, secret)).status).toBe(200);
    await row(page, '团队 A（生产）').getByTestId('revoke-key').click();
    await page.getByRole('dialog').getByText('吊销后不能恢复').waitFor();
    await shot(page, 'keys-revoke-desktop');
    await page.getByTestId('confirm-ok').click();
    await page.getByText('已吊销「团队 A（生产）」').waitFor();
    expect(await row(page, '团队 A（生产）').getByTestId('key-status').innerText()).toBe('已吊销');
    await row(page, '团队 A（生产）').getByTestId('revoke-key').waitFor({ state: 'detached' });

    expect(await chat(gw, secret)).toMatchObject({ status: 401, code: 'invalid_api_key', message: 'This API key has been revoked.' });
    expect((await chat(gw, other)).status).toBe(200);
    expect(await chat(gw)).toMatchObject({ status: 401, code: 'missing_api_key' });

    // The list after a reload: the same, read from the API.
    await page.reload();
    await row(page, 'Open WebUI').waitFor();
    expect(await row(page, '团队 A（生产）').getByTestId('key-status').innerText()).toBe('已吊销');
    await shot(page, 'keys-desktop');
    // The light theme too.
    await page.getByTestId('theme-toggle').click();
    await shot(page, 'keys-light-desktop');
    await page.getByTestId('theme-toggle').click();

    // Phone width: cards, and the dialogs fit.
    await page.setViewportSize(PHONE);
    await page.getByTestId('key-cards').waitFor();
    await shot(page, 'keys-phone');
    await page.getByTestId('create-key').click();
    const third = await createKey(page, '手机上创建的密钥', '30', 'keys-secret-phone');
    expect((await chat(gw, third)).status).toBe(200);
    await row(page, '手机上创建的密钥').waitFor();
    await shot(page, 'keys-full-phone', true);
    await page.setViewportSize(DESKTOP);

    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('never requested anything from another host', () => {
    expect(world.requested.length).toBeGreaterThan(10);
    expect(world.foreign()).toEqual([]);
  });
});
