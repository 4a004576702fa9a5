/**
 * 提供商管理 in Chromium, against the real gateway and the provider emulators:
 *
 * - the table lists every provider with its status, health, breaker and keys, and follows the
 *   gateway live (a breaker that opens shows up with its countdown, without a reload);
 * - the switch takes a provider out of routing: a model served by two providers is answered by
 *   the other one (the gateway's `x-pool-provider` header), and switching back restores it;
 * - 检查 shows the probe's verdict; keys are added, tested, shown masked and removed; settings
 *   change routing (priority) and go back to the environment's; upstreams are added (with a key),
 *   routed to, refused with the reason under the field, and deleted;
 * - the unreachable and stale states; no console errors, nothing from another host;
 * - screenshots at desktop and phone width, with a dialog open, in both themes.
 */
import type { Locator, Page } from 'playwright-core';
import type { Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { postJson } from '../support/gateway.ts';
import type { Gateway } from '../support/gateway.ts';
import { PHONE, dialogReady, login, shot, startConsoleWorld, watchErrors } from './browser.ts';
import type { ConsoleWorld } from './browser.ts';

/** A model with two routes, DeepInfra first (catalog/models.json). */
const SHARED_MODEL = 'deepseek-v3';

describe('提供商管理 in Chromium', () => {
  let world: ConsoleWorld;
  let emu: Emulator;
  let gw: Gateway;
  let page: Page;
  let errors: string[];

  /** Who answered a chat request: the gateway's `x-pool-provider` header. */
  async function answeredBy(model: string, provider?: string): Promise<{ status: number; provider: string | null }> {
    const res = await postJson(`${gw.url}/v1/chat/completions`, { model, provider, messages: [{ role: 'user', content: '你好' }] });
    await res.arrayBuffer();
    return { status: res.status, provider: res.headers.get('x-pool-provider') };
  }

  const row = (name: string): Locator => page.locator(`[data-testid="provider-row"][data-provider="${name}"]`);
  const dialog = (): Locator => page.locator('mat-dialog-container').last();
  const snackbar = (text: string): Promise<void> => page.locator('.mat-mdc-snack-bar-label').getByText(text).first().waitFor();

  /** Dismisses the snackbar shown (one leaving may still be in the page: it goes by itself). */
  async function closeSnackbars(): Promise<void> {
    await page
      .locator('.mat-mdc-snack-bar-action')
      .last()
      .click({ timeout: 2000 })
      .catch(() => undefined);
    await page.locator('.mat-mdc-snack-bar-container').first().waitFor({ state: 'detached', timeout: 10_000 });
  }

  async function closeDialog(): Promise<void> {
    await dialog().getByTestId('dialog-close').click();
    await page.locator('mat-dialog-container').waitFor({ state: 'detached' });
  }

  beforeAll(async () => {
    // Priority routing: with no priorities set, a model's catalog route order decides, so which
    // provider answers is certain.
    world = await startConsoleWorld({ ROUTING_STRATEGY: 'priority' });
    ({ emu, gw } = world);
    page = await world.context.newPage();
    errors = watchErrors(page);
    await login(page, gw);
  }, 300_000);

  afterAll(() => world?.close());

  it('lists every provider with status, health, breaker and keys', async () => {
    await page.locator('[data-nav="providers"]').click();
    await page.waitForURL(/\/providers$/);
    await row('CloudflareAI').waitFor();
    const names = await page.getByTestId('provider-name').allInnerTexts();
    expect(names).toEqual(['PollinationsAI', 'DeepInfra', 'Together', 'HuggingFace', 'CloudflareAI']);
    for (const name of names) {
      expect(await row(name).getAttribute('data-status')).toBe('available');
      expect(await row(name).getByTestId('provider-status').innerText()).toBe('可用');
      expect(await row(name).getByTestId('provider-breaker').getAttribute('data-breaker')).toBe('closed');
    }
    expect(await row('DeepInfra').getByTestId('provider-key-count').innerText()).toBe('1');
    // Pollinations works without a key.
    expect(await row('PollinationsAI').getByTestId('provider-key-count').innerText()).toBe('—');
    expect(await row('PollinationsAI').innerText()).toContain('无需密钥');
    expect(await row('DeepInfra').getByTestId('provider-last-check').innerText()).toBe('未检查');
    expect(await page.getByTestId('live-indicator').innerText()).toContain('实时');
  }, 60_000);

  it('switching a provider off changes who answers; switching it on restores it', async () => {
    expect(await answeredBy(SHARED_MODEL)).toEqual({ status: 200, provider: 'DeepInfra' });

    await row('DeepInfra').getByTestId('provider-toggle').locator('button').click();
    await page.locator('[data-provider="DeepInfra"][data-status="disabled"]').waitFor();
    await snackbar('已停用 DeepInfra');
    expect(await row('DeepInfra').getByTestId('provider-reason').innerText()).toBe('已在控制台停用');
    expect(await row('DeepInfra').getByTestId('provider-toggle').locator('button').getAttribute('aria-checked')).toBe('false');
    expect(await answeredBy(SHARED_MODEL)).toEqual({ status: 200, provider: 'Together' });
    expect(await answeredBy(SHARED_MODEL)).toEqual({ status: 200, provider: 'Together' });

    await row('DeepInfra').getByTestId('provider-toggle').locator('button').click();
    await page.locator('[data-provider="DeepInfra"][data-status="available"]').waitFor();
    await snackbar('已启用 DeepInfra');
    expect(await answeredBy(SHARED_MODEL)).toEqual({ status: 200, provider: 'DeepInfra' });
    await closeSnackbars();
  }, 60_000);

  it('checks one provider and shows what was tested and the verdict; a failing probe says why', async () => {
    await row('Together').getByTestId('provider-check').click();
    await row('Together').getByTestId('provider-last-check').getByText('检查通过').waitFor();
    await snackbar('Together：对话 1 token（');
    expect(await row('Together').getByTestId('provider-check-tested').innerText()).toMatch(/^对话 1 token（.+）$/);

    emu.addFault({ provider: 'huggingface', mode: 'status', status: 503, path: 'chat', times: 1 });
    await row('HuggingFace').getByTestId('provider-check').click();
    await row('HuggingFace').getByTestId('provider-last-check').getByText('检查失败').waitFor();
    await snackbar('），失败：HTTP 503');
    // The error is on the row itself, not only in a tooltip; and the provider is 异常 until traffic or a check says otherwise.
    expect(await row('HuggingFace').getByTestId('provider-check-error').innerText()).toMatch(/503/);
    expect(await row('HuggingFace').getByTestId('provider-condition').innerText()).toBe('异常');
    emu.clearFaults();

    await page.getByTestId('check-all').click();
    await snackbar('已检查 5 个提供商：5 个通过');
    await row('HuggingFace').getByTestId('provider-last-check').getByText('检查通过').waitFor();
    await closeSnackbars();
  }, 60_000);

  it('follows the gateway live: a breaker that opens shows with its countdown', async () => {
    emu.addFault({ provider: 'huggingface', mode: 'status', status: 500 });
    for (let i = 0; i < 3; i++) expect((await answeredBy('gemma-2-9b', 'HuggingFace')).status).toBeGreaterThanOrEqual(500);
    emu.clearFaults();
    // No reload: the next poll brings it.
    await page.locator('[data-provider="HuggingFace"][data-status="cooling-down"]').waitFor({ timeout: 15_000 });
    expect(await row('HuggingFace').getByTestId('provider-breaker').getAttribute('data-breaker')).toBe('open');
    expect(await row('HuggingFace').getByTestId('breaker-countdown').innerText()).toMatch(/^\d+ 秒后重试$/);
    expect(await row('HuggingFace').getByTestId('provider-status').innerText()).toBe('冷却中');
    expect(await row('HuggingFace').getByTestId('provider-reason').innerText()).toContain('连续失败，冷却中');
    // Live failures: 异常 with the failing status and reason inline.
    expect(await row('HuggingFace').getByTestId('provider-condition').innerText()).toBe('异常');
    expect(await row('HuggingFace').getByTestId('provider-condition-detail').innerText()).toMatch(/^实时请求连续失败 \d+ 次 · HTTP 500/);
  }, 60_000);

  it('the detail view: condition, recent checks, the last failures with a link to 请求日志, the key pool', async () => {
    await row('HuggingFace').getByTestId('provider-details').click();
    const overview = dialog().getByTestId('provider-overview');
    await overview.getByTestId('overview-failures').waitFor();
    expect(await overview.getByTestId('overview-condition').innerText()).toMatch(/状况：异常\s+实时请求连续失败 \d+ 次 · HTTP 500/);
    // The checks pressed earlier, newest first: what was tested, on which model (the one the row names), and the verdict.
    const tested = /^对话 1 token（(.+)）$/.exec(await row('HuggingFace').getByTestId('provider-check-tested').innerText())![1]!;
    expect(await overview.getByTestId('overview-checks').innerText()).toMatch(/对话 1 token\s*测试模型：\S+\s*失败 · \d+ ms\s*HTTP 503/);
    expect(await overview.getByTestId('overview-check-model').allInnerTexts()).toContain(`测试模型：${tested}`);
    // Each failed request in Chinese: those it answered with a 500, and the one skipped while it cooled.
    const failures = await overview.getByTestId('overview-failures').innerText();
    expect(failures).toMatch(/HTTP 50\d · 上游服务器错误（HTTP 500）/);
    expect(failures).toMatch(/HTTP 50\d · 已跳过：提供商在冷却中，没有发送/);
    expect(await overview.getByTestId('overview-keys').innerText()).toContain('****');
    await shot(page, 'providers-detail-desktop');
    await page.setViewportSize(PHONE);
    await shot(page, 'providers-detail-phone');
    await page.setViewportSize({ width: 1440, height: 900 });
    await overview.getByTestId('overview-logs-link').click();
    await page.waitForURL(/\/logs\?provider=HuggingFace&status=error$/);
    await page.locator('mat-dialog-container').waitFor({ state: 'detached' });
    await page.getByTestId('log-row').first().waitFor();
    await page.locator('[data-nav="providers"]').click();
    await page.waitForURL(/\/providers$/);
    await row('HuggingFace').waitFor();
  }, 60_000);

  it('adds a key (shown masked), tests it, and removes it; environment keys are read-only', async () => {
    await row('DeepInfra').getByTestId('provider-keys').click();
    const d = await dialogReady(page);
    await d.getByTestId('provider-dialog').waitFor();
    const envKey = d.locator('[data-testid="key-row"][data-source="env"]');
    expect(await envKey.getByTestId('key-masked').innerText()).toBe('****0001');
    expect(await envKey.getByTestId('key-delete').isDisabled()).toBe(true);

    await d.getByTestId('key-input').fill('di-console-key-7777');
    await d.getByTestId('key-label').fill('备用账号');
    await d.getByTestId('key-add').click();
    const consoleKey = d.locator('[data-testid="key-row"][data-source="console"]').filter({ hasText: '****7777' });
    await consoleKey.waitFor();
    expect(await consoleKey.getByTestId('key-masked').innerText()).toBe('****7777');
    expect(await consoleKey.innerText()).toContain('备用账号');
    expect(await d.getByTestId('key-input').inputValue()).toBe('');
    expect(await page.content()).not.toContain('di-console-key-7777');
    await snackbar('已添加密钥 ****7777');
    await row('DeepInfra').getByTestId('provider-key-count').getByText('2').waitFor();

    await consoleKey.getByTestId('key-test').click();
    await consoleKey.getByTestId('key-test-result').getByText('有效').waitFor();

    // A key the upstream refuses: the test says so.
    await d.getByTestId('key-input').fill('bad-console-key-0002');
    await d.getByTestId('key-add').click();
    const badKey = d.locator('[data-testid="key-row"]').filter({ hasText: '****0002' });
    await badKey.waitFor();
    await badKey.getByTestId('key-test').click();
    await badKey.getByTestId('key-test-result').getByText('无效').waitFor();
    expect(await badKey.getByTestId('key-test-result').innerText()).toContain('401');
    await row('DeepInfra').getByTestId('provider-key-count').getByText('3').waitFor();
    await closeSnackbars();
    await shot(page, 'providers-dialog-desktop');

    for (const k of [badKey, consoleKey]) {
      await k.getByTestId('key-delete').click();
      await page.getByTestId('confirm-ok').click();
      await k.waitFor({ state: 'detached' });
    }
    await row('DeepInfra').getByTestId('provider-key-count').getByText('1').waitFor();
    await closeDialog();
    await closeSnackbars();
  }, 60_000);

  it('adds an upstream (refused names say why), routes to it, and deletes it', async () => {
    await page.getByTestId('add-upstream').click();
    const d = await dialogReady(page);
    await d.getByTestId('upstream-dialog').waitFor();
    // Nothing filled in: the form says what is missing and sends nothing.
    await d.getByTestId('upstream-save').click();
    await d.getByText('至少添加一个模型').waitFor();
    expect(await d.locator('mat-error').first().innerText()).toBe('必填');

    await d.getByTestId('upstream-name').fill('deepinfra');
    await d.getByTestId('upstream-baseUrl').fill(emu.baseUrl('deepinfra'));
    await d.getByTestId('upstream-ownedBy').fill('Meta');
    await d.getByTestId('upstream-model-id').fill('my-llama');
    await d.getByTestId('upstream-model-upstream').fill('meta-llama/Llama-3.1-8B-Instruct');
    await d.getByTestId('upstream-key').fill('di-good-key-0001');
    // The API refuses a built-in's name: the reason shows under the name field.
    await d.getByTestId('upstream-save').click();
    await d.locator('mat-error').getByText('已有同名的提供商').waitFor();
    await shot(page, 'providers-upstream-desktop');

    await d.getByTestId('upstream-name').fill('MyDeepInfra');
    // 额外采样参数: top_k ticked, so a client's top_k reaches it (min_p, not ticked, does not).
    await d.locator('[data-testid="upstream-sampling-name"][data-name="top_k"]').click();
    await d.getByTestId('upstream-add-model').click();
    await d.getByTestId('upstream-model-id').nth(1).fill('my-gemma');
    await d.getByTestId('upstream-model-upstream').nth(1).fill('google/gemma-3-27b-it');
    await d.getByTestId('upstream-save').click();
    await page.locator('mat-dialog-container').waitFor({ state: 'detached' });
    await snackbar('已添加上游 MyDeepInfra（含 1 个密钥）');

    const upstream = row('MyDeepInfra');
    await upstream.waitFor();
    expect(await upstream.getAttribute('data-status')).toBe('available');
    expect(await upstream.innerText()).toContain('自定义');
    expect(await upstream.innerText()).toContain('2 个模型');
    expect(await upstream.getByTestId('provider-key-count').innerText()).toBe('1');
    expect(await answeredBy('my-llama')).toEqual({ status: 200, provider: 'MyDeepInfra' });
    expect(emu.requests('deepinfra').at(-1)!.headers.authorization).toBe('Bearer di-good-key-0001');
    const sampled = await postJson(`${gw.url}/v1/chat/completions`, { model: 'my-llama', messages: [{ role: 'user', content: '你好' }], top_k: 7, min_p: 0.2 });
    expect(sampled.status).toBe(200);
    await sampled.arrayBuffer();
    expect(emu.requests('deepinfra').at(-1)!.body).toMatchObject({ top_k: 7 });
    expect(emu.requests('deepinfra').at(-1)!.body).not.toHaveProperty('min_p');

    // Its definition, as saved, in its settings.
    await upstream.getByTestId('provider-settings').click();
    await dialogReady(page);
    await dialog().getByTestId('upstream-form').waitFor();
    expect(await dialog().getByTestId('upstream-name').isDisabled()).toBe(true);
    expect(await dialog().getByTestId('upstream-model-id').nth(1).inputValue()).toBe('my-gemma');
    expect(await dialog().locator('[data-testid="upstream-sampling-name"].mat-mdc-chip-selected').allInnerTexts()).toEqual(['top_k']);
    await dialog().getByTestId('upstream-ownedBy').fill('Google');
    await dialog().getByTestId('upstream-save').click();
    await snackbar('已保存上游 MyDeepInfra');
    await closeDialog();
    await closeSnackbars();

    // A full page for the screenshots: an upstream, a cooling breaker, checks.
    await shot(page, 'providers-desktop');
    await shot(page, 'providers-full-desktop', true);

    await upstream.getByTestId('upstream-delete').click();
    await page.getByTestId('confirm-ok').click();
    await upstream.waitFor({ state: 'detached' });
    await snackbar('已删除上游 MyDeepInfra');
    expect((await answeredBy('my-llama')).status).toBe(404);
    await closeSnackbars();
  }, 90_000);

  it('settings change routing and go back to the environment; bad values are refused in the form', async () => {
    await row('Together').getByTestId('provider-settings').click();
    const d = await dialogReady(page);
    await d.getByTestId('settings-form').waitFor();
    expect(await d.getByTestId('settings-baseUrl').inputValue()).toBe(emu.baseUrl('together'));
    expect(await d.getByTestId('settings-save').isDisabled()).toBe(true);

    await d.getByTestId('settings-baseUrl').fill('not a url');
    await d.getByTestId('settings-save').click();
    await d.locator('mat-error').getByText('请输入完整的地址').waitFor();
    await d.getByTestId('settings-baseUrl').fill(emu.baseUrl('together'));

    // What is typed survives the polls that keep refreshing the page behind the dialog.
    await d.getByTestId('settings-priority').fill('1');
    const liveText = () => document.querySelector('[data-testid="live-indicator"]')?.textContent ?? '';
    const before = await page.evaluate(liveText);
    await page.waitForFunction((shown) => document.querySelector('[data-testid="live-indicator"]')?.textContent !== shown, before, { timeout: 15_000 });
    expect(await d.getByTestId('settings-priority').inputValue()).toBe('1');
    await d.getByTestId('settings-save').click();
    await snackbar('已保存 Together 的设置');
    await row('Together').getByText('优先级 1').waitFor();
    expect(await answeredBy(SHARED_MODEL)).toEqual({ status: 200, provider: 'Together' });

    await d.getByTestId('settings-reset-priority').click();
    await snackbar('Together 的优先级已恢复为环境变量（或默认）的设置');
    expect(await d.getByTestId('settings-priority').inputValue()).toBe('');
    await row('Together').getByText('优先级 1').waitFor({ state: 'detached' });
    expect(await answeredBy(SHARED_MODEL)).toEqual({ status: 200, provider: 'DeepInfra' });
    await closeDialog();

    // Cloudflare's own setting is in its form.
    await row('CloudflareAI').getByTestId('provider-settings').click();
    expect(await dialog().getByTestId('settings-extra-accountId').inputValue()).toBe('acct-123');
    await closeDialog();
    await closeSnackbars();
  }, 60_000);

  it('the routing strategy in force is shown and chosen here; a weight is set in a provider’s settings', async () => {
    const panel = page.getByTestId('routing-strategy');
    await panel.waitFor();
    expect(await panel.getAttribute('data-strategy')).toBe('priority');
    expect(await page.getByTestId('routing-help').innerText()).toMatch(/^生效中：按优先级（来自环境变量 ROUTING_STRATEGY）/);
    await page.getByTestId('routing-select').click();
    await page.getByRole('option', { name: '按健康度加权随机' }).click();
    await snackbar('路由策略已改为：按健康度加权随机');
    await page.locator('[data-testid="routing-strategy"][data-strategy="random"]').waitFor();
    expect(await page.getByTestId('routing-help').innerText()).toMatch(/^生效中：按健康度加权随机（在管理台设置，所有副本共享）/);
    await shot(page, 'providers-routing-desktop');
    const routing = (await (await fetch(`${gw.url}/api/routing`, { headers: await adminHeaders(gw) })).json()) as { strategy: string; source: string };
    expect(routing).toEqual({ strategy: 'random', source: 'console', default: 'priority' });

    // Together's weight 0: under weighted random routing DeepInfra answers the shared model every time.
    await row('Together').getByTestId('provider-settings').click();
    await dialogReady(page);
    await dialog().getByTestId('settings-weight').fill('0');
    await dialog().getByTestId('settings-save').click();
    await snackbar('已保存 Together 的设置');
    await closeDialog();
    for (let i = 0; i < 5; i++) expect(await answeredBy(SHARED_MODEL)).toEqual({ status: 200, provider: 'DeepInfra' });

    // Back as the other tests expect it.
    await row('Together').getByTestId('provider-settings').click();
    await dialog().getByTestId('settings-reset-weight').click();
    await snackbar('Together 的权重已恢复为环境变量（或默认）的设置');
    await closeDialog();
    await page.getByTestId('routing-select').click();
    await page.getByRole('option', { name: '按优先级' }).click();
    await page.locator('[data-testid="routing-strategy"][data-strategy="priority"]').waitFor();
    await closeSnackbars();
  }, 60_000);

  it('at phone width: cards, and dialogs that fit; the light theme', async () => {
    await page.setViewportSize(PHONE);
    await row('DeepInfra').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
    await shot(page, 'providers-phone');
    await shot(page, 'providers-full-phone', true);

    await row('CloudflareAI').getByTestId('provider-keys').click();
    await dialog().getByTestId('key-row').first().waitFor();
    await shot(page, 'providers-dialog-phone');
    await closeDialog();
    await page.getByTestId('add-upstream').click();
    await dialog().getByTestId('upstream-form').waitFor();
    await shot(page, 'providers-upstream-phone');
    await dialog().getByTestId('upstream-cancel').click();
    await page.locator('mat-dialog-container').waitFor({ state: 'detached' });

    await page.setViewportSize({ width: 1440, height: 900 });
    await page.getByTestId('theme-toggle').click();
    await row('DeepInfra').waitFor();
    await shot(page, 'providers-light-desktop');
    await row('Together').getByTestId('provider-settings').click();
    await dialog().getByTestId('settings-form').waitFor();
    await shot(page, 'providers-settings-light-desktop');
    await closeDialog();
    await page.getByTestId('theme-toggle').click();
  }, 60_000);

  it('logged no errors in the browser', () => {
    // The 409 of the refused upstream name is the browser's own log line for a failed request.
    expect(errors.filter((e) => !e.includes('status of 409'))).toEqual([]);
  });

  it('shows when the API stops answering, keeps the list, and recovers', async () => {
    await page.route('**/api/providers', (route) => route.abort('connectionrefused'));
    await page.getByTestId('stale-banner').getByText('无法连接到服务器').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('provider-row').count()).toBe(5);
    await page.reload();
    await page.getByTestId('providers-unreachable').waitFor();
    await shot(page, 'providers-unreachable-desktop');
    await page.unroute('**/api/providers');
    await page.getByTestId('providers-unreachable').getByRole('button', { name: '重试' }).click();
    await row('DeepInfra').waitFor();
  }, 60_000);

  it('never requested anything from another host', () => {
    expect(world.requested.length).toBeGreaterThan(10);
    expect(world.foreign()).toEqual([]);
  });
});

declare const document: {
  documentElement: { scrollWidth: number; clientWidth: number };
  querySelector(selector: string): { textContent: string | null } | null;
};
