/**
 * 请求日志 in Chromium against the real gateway and the provider emulators: /v1 requests (one that
 * fails over from DeepInfra to Together, one that every provider fails, a stream) appear as rows
 * by themselves; filtering by status and model narrows them and survives a reload (the filters
 * live in the URL); expanding a row shows each upstream attempt and the final error; paging works.
 * Screenshots at desktop and phone width.
 *
 * Routing is deterministic (ROUTING_STRATEGY=priority, as in test/e2e/failover.e2e-spec.ts):
 * DeepInfra → Together → HuggingFace → PollinationsAI for `llama-3.3-70b`.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import type { ProviderId } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { postJson } from '../support/gateway.ts';
import type { Gateway } from '../support/gateway.ts';
import { DESKTOP, PHONE, login, shot, startConsoleWorld, text, watchErrors } from './browser.ts';
import type { ConsoleWorld } from './browser.ts';

declare const document: {
  querySelectorAll(selector: string): { length: number };
};

const ALL_PROVIDERS: ProviderId[] = ['pollinations', 'deepinfra', 'together', 'huggingface', 'cloudflare'];

/** A /v1 chat request with the client key; resolves to its HTTP status once the body is read. */
async function chat(gw: Gateway, key: string, model: string, stream = false): Promise<number> {
  const res = await postJson(
    `${gw.url}/v1/chat/completions`,
    { model, stream, messages: [{ role: 'user', content: '你好' }] },
    { authorization: `Bearer ${key}` },
  );
  await res.arrayBuffer();
  return res.status;
}

async function rows(page: Page, n: number): Promise<void> {
  await page.waitForFunction((count) => document.querySelectorAll('[data-testid="log-row"]').length === count, n, { timeout: 20_000 });
}

/** Picks an option of a mat-select. */
async function choose(page: Page, testId: string, option: string): Promise<void> {
  await page.getByTestId(testId).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

describe('请求日志 in Chromium', () => {
  let world: ConsoleWorld;
  let gw: Gateway;
  let key: string;

  beforeAll(async () => {
    world = await startConsoleWorld({
      ROUTING_STRATEGY: 'priority',
      DEEPINFRA_PRIORITY: '1',
      TOGETHER_PRIORITY: '2',
      HUGGINGFACE_PRIORITY: '3',
      POLLINATIONS_PRIORITY: '4',
      CLOUDFLARE_PRIORITY: '5',
      // The failures below must not open provider breakers.
      BREAKER_FAILURE_THRESHOLD: '1000',
    });
    gw = world.gw;
    // A client key named in the log's 密钥 column.
    const res = await fetch(`${gw.url}/api/keys`, { method: 'POST', headers: await adminHeaders(gw), body: JSON.stringify({ name: '团队 A' }) });
    key = ((await res.json()) as { secret: string }).secret;
  }, 300_000);

  afterAll(() => world?.close());

  it('lists requests with their attempts, filters them (kept in the URL) and pages through them', async () => {
    const { emu } = world;
    const page = await world.context.newPage();
    const errors = watchErrors(page);
    await login(page, gw);
    await page.locator('[data-nav="logs"]').click();
    await page.waitForURL(/\/logs$/);
    await page.getByTestId('logs-empty').waitFor();

    // Traffic: two plain successes, a stream, a failover, then a request every provider fails.
    expect(await chat(gw, key, 'llama-3.3-70b')).toBe(200);
    expect(await chat(gw, key, 'gpt-4o-mini')).toBe(200);
    expect(await chat(gw, key, 'gpt-4o-mini', true)).toBe(200);
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 1 });
    expect(await chat(gw, key, 'llama-3.3-70b')).toBe(200);
    emu.clearFaults();
    // Twice each: a 500 on the only route left is retried once.
    for (const provider of ALL_PROVIDERS) emu.addFault({ provider, mode: 'status', status: 500, times: 2 });
    expect(await chat(gw, key, 'llama-3.3-70b')).toBeGreaterThanOrEqual(500);
    emu.clearFaults();

    // They appear without a reload (auto refresh is on for page 1), newest first.
    await rows(page, 5);
    expect(await text(page, 'logs-total')).toBe('共 5 条');
    const models = await page.getByTestId('log-model').allInnerTexts();
    expect(models).toEqual(['llama-3.3-70b', 'llama-3.3-70b', 'gpt-4o-mini', 'gpt-4o-mini', 'llama-3.3-70b']);
    expect(await page.getByTestId('log-status').allInnerTexts()).toEqual([expect.stringMatching(/^5\d\d$/), '200', '200', '200', '200']);
    expect(await page.locator('[data-testid="log-row"]').first().innerText()).toContain('团队 A');
    await shot(page, 'logs-desktop');

    // The failover: one badge, and its attempts when opened.
    const failover = page
      .getByTestId('log-row')
      .filter({ has: page.getByTestId('failover-badge') })
      .filter({ hasText: 'llama-3.3-70b' });
    await failover.getByTestId('expand-row').click();
    const detail = page.getByTestId('log-detail');
    await detail.waitFor();
    const attempts = detail.getByTestId('attempt');
    expect(await attempts.count()).toBe(2);
    expect(await attempts.nth(0).getAttribute('data-provider')).toBe('DeepInfra');
    expect(await attempts.nth(0).getAttribute('data-outcome')).toBe('error');
    expect(await attempts.nth(0).innerText()).toContain('500');
    // In Chinese from the attempt's code, with the upstream's own words beside it to copy.
    expect(await attempts.nth(0).getByTestId('attempt-code').innerText()).toBe('上游服务器错误（HTTP 500）');
    expect(await attempts.nth(0).getByTestId('attempt-reason').innerText()).toMatch(/^HTTP 500/);
    expect(await attempts.nth(0).getByTestId('copy-attempt-reason').count()).toBe(1);
    expect(await attempts.nth(1).getAttribute('data-provider')).toBe('Together');
    expect(await attempts.nth(1).getByTestId('attempt-outcome').innerText()).toBe('成功');
    expect(await detail.getByTestId('final-error').count()).toBe(0);
    await shot(page, 'logs-expanded-desktop');
    await page.getByTestId('theme-toggle').click();
    await shot(page, 'logs-light-desktop');
    await page.getByTestId('theme-toggle').click();
    await failover.getByTestId('expand-row').click();
    await detail.waitFor({ state: 'detached' });

    // Only the failures: the URL says so, and a reload keeps it.
    await choose(page, 'filter-status', '失败（非 2xx）');
    await page.waitForURL(/[?&]status=error/);
    await rows(page, 1);
    await page.reload();
    await rows(page, 1);
    expect(await page.getByTestId('filter-status').innerText()).toContain('失败（非 2xx）');
    // The one every provider failed: each attempt, in priority order, and the final error.
    await page.getByTestId('log-row').click();
    await page.getByTestId('final-error').waitFor();
    expect(
      await page.getByTestId('attempt').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset['provider'])),
    ).toEqual(['DeepInfra', 'Together', 'HuggingFace', 'PollinationsAI', 'PollinationsAI']);
    expect(new Set(await page.getByTestId('attempt-outcome').allInnerTexts())).toEqual(new Set(['失败']));
    expect(await page.getByTestId('final-error-zh').innerText()).toMatch(/^最终错误：(所有提供商都失败了|所有提供商都超时了|被限流)/);
    expect(await page.getByTestId('final-error-original').innerText()).toMatch(/Every provider/);
    await shot(page, 'logs-failed-desktop');

    // And by model: llama-3.3-70b's successes are two (the plain one and the failover).
    await page.getByTestId('filter-model').fill('llama-3.3-70b');
    await page.getByTestId('filter-model').press('Enter');
    await page.waitForURL(/model=llama-3\.3-70b/);
    await rows(page, 1);
    await choose(page, 'filter-status', '成功（2xx）');
    await page.waitForURL(/status=success/);
    await rows(page, 2);
    expect(await page.getByTestId('log-model').allInnerTexts()).toEqual(['llama-3.3-70b', 'llama-3.3-70b']);
    // gpt-4o-mini's: the stream and the plain one.
    await page.getByTestId('filter-model').fill('gpt-4o-mini');
    await page.getByTestId('filter-model').press('Enter');
    await page.waitForURL(/model=gpt-4o-mini/);
    await rows(page, 2);
    // A status code nobody got.
    await choose(page, 'filter-status', '指定状态码…');
    await page.getByTestId('filter-status-code').fill('404');
    await page.getByTestId('filter-status-code').press('Enter');
    await page.waitForURL(/status=404/);
    await page.getByTestId('logs-no-match').waitFor();
    await page.getByTestId('clear-filters').first().click();
    await page.waitForURL(/\/logs$/);
    await rows(page, 5);

    // A custom range: it starts as the last hour; an end before its start is refused on the page.
    await choose(page, 'filter-range', '自定义…');
    await page.waitForURL(/range=custom&from=/);
    expect(await page.getByTestId('filter-from').inputValue()).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
    await rows(page, 5);
    await page.getByTestId('filter-to').fill('2020-01-01T08:00');
    await page.waitForURL(/to=2020-01-01T08%3A00|to=2020-01-01T08:00/);
    await page.getByTestId('range-error').waitFor();
    expect(await page.getByTestId('log-row').count()).toBe(0);
    await shot(page, 'logs-range-error-desktop');
    await page.getByTestId('filter-to').fill('');
    await page.waitForURL((url) => !url.search.includes('to='));
    await page.getByTestId('range-error').waitFor({ state: 'detached' });
    await rows(page, 5);

    // Paging: 20 per page; page 2 has the rest, and auto refresh is off there.
    for (let i = 0; i < 16; i++) expect(await chat(gw, key, i % 2 ? 'llama-3.3-70b' : 'gpt-4o-mini')).toBe(200);
    await choose(page, 'filter-range', '近 1 小时');
    await page.waitForURL(/range=1h/);
    await page.locator('mat-paginator .mat-mdc-paginator-touch-target').click();
    await page.getByRole('option', { name: '20', exact: true }).click();
    await page.waitForURL(/size=20/);
    await rows(page, 20);
    await page.getByRole('button', { name: '下一页' }).click();
    await page.waitForURL(/page=2/);
    await rows(page, 1);
    // Waited for, not read at once: the toggle follows the page in the URL a render later.
    await page.locator('[data-testid="auto-refresh"] button[aria-checked="false"]').waitFor();
    expect(await page.locator('mat-paginator').innerText()).toContain('21–21 / 共 21 条');
    await page.getByRole('button', { name: '上一页' }).click();
    await page.waitForURL((url) => !url.search.includes('page='));
    await page.locator('[data-testid="auto-refresh"] button[aria-checked="true"]').waitFor();

    // 导出: the whole filtered log, every page of it (21 entries), as a CSV file.
    await page.getByTestId('logs-export').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: /^CSV/ }).click()]);
    expect(download.suggestedFilename()).toMatch(/^request-log-\d{8}-\d{4}\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv.startsWith('\uFEFFstartedAt,requestId,')).toBe(true);
    expect(csv.split('\r\n').filter((line) => /^\d{4}-\d{2}-\d{2}T/.test(line))).toHaveLength(21);

    // Phone width: cards, filters behind a button, a row opened.
    await page.setViewportSize(PHONE);
    await page.getByTestId('log-cards').waitFor();
    await shot(page, 'logs-phone');
    await page.getByTestId('toggle-filters').click();
    await page.getByTestId('filters').waitFor();
    await shot(page, 'logs-filters-phone');
    // The failures, one opened: attempts and the final error fit the width.
    await page.goto(`${gw.url}/logs?status=error`);
    await rows(page, 1);
    const card = page.getByTestId('log-row');
    await card.getByTestId('expand-row').click();
    await card.getByTestId('final-error').waitFor();
    await shot(page, 'logs-expanded-phone');
    await page.setViewportSize(DESKTOP);

    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('never requested anything from another host', () => {
    expect(world.requested.length).toBeGreaterThan(10);
    expect(world.foreign()).toEqual([]);
  });
});
