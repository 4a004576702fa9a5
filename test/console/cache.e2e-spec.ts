/**
 * 控制台's response cache panel in Chromium: it shows the switch as RESPONSE_CACHE set it, turns
 * the cache on for the gateway (a repeated deterministic request is then answered from the cache),
 * and counts what the hits saved on its next poll, without a reload; a model forced there is
 * cached whatever the request's temperature, until it is taken off the list.
 */
import type { CacheSettings } from '#contracts';
import type { Page, Request } from 'playwright-core';
import { adminHeaders } from '../support/admin.ts';
import { postJson } from '../support/gateway.ts';
import { axeFindings, login, shot, startConsoleWorld, watchErrors, type ConsoleWorld } from './browser.ts';

describe('控制台 response cache in Chromium', () => {
  let world: ConsoleWorld;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    world = await startConsoleWorld({ ROUTING_STRATEGY: 'priority' });
    page = await world.context.newPage();
    errors = watchErrors(page);
    await login(page, world.gw);
  }, 300_000);

  afterAll(() => world?.close());

  const ask = async (temperature = 0) => {
    const res = await postJson(`${world.gw.baseURL}/chat/completions`, {
      model: 'llama-3.3-70b',
      temperature,
      messages: [{ role: 'user', content: `缓存测试 ${temperature}` }],
    });
    await res.arrayBuffer();
    return res.headers.get('x-pool-cache');
  };

  it('switches the cache on for the gateway and shows what it saved', async () => {
    const panel = page.getByTestId('response-cache');
    await panel.waitFor();
    expect(await panel.getAttribute('data-enabled')).toBe('false');
    expect(await panel.innerText()).toContain('来自环境变量 RESPONSE_CACHE');
    expect(await ask()).toBeNull();

    await page.getByTestId('cache-toggle').locator('button').click();
    await page.locator('[data-testid="response-cache"][data-enabled="true"]').waitFor();
    const stored = (await (await fetch(`${world.gw.url}/api/cache`, { headers: await adminHeaders(world.gw) })).json()) as CacheSettings;
    expect(stored).toMatchObject({ enabled: true, source: 'console' });

    expect(await ask()).toBe('miss');
    expect(await ask()).toBe('hit');
    expect(await ask()).toBe('hit');
    await page.locator('[data-testid="cache-saved-requests"]', { hasText: '2' }).waitFor({ timeout: 15_000 });
    expect(Number((await page.getByTestId('cache-saved-tokens').innerText()).replace(/\D/g, ''))).toBeGreaterThan(0);
    await shot(page, 'dashboard-cache-full-desktop', true);
    expect(errors).toEqual([]);
  }, 60_000);

  it('reads /api/cache again only when the polls show traffic: quiet polls read nothing', async () => {
    // Runs after the test above. A poll, and the read it may start at once (its stats may have been
    // asked just before the last hit), come first; the poll after it is quiet.
    const isPoll = (url: string) => new URL(url).pathname === '/api/providers';
    await page.waitForResponse((r) => isPoll(r.url()));
    await page.waitForRequest((r) => isPoll(r.url()));
    const reads: string[] = [];
    const onRequest = (r: Request) => {
      if (new URL(r.url()).pathname === '/api/cache' && r.method() === 'GET') reads.push(r.url());
    };
    page.on('request', onRequest);
    // The quiet poll, and the time until the next one for a read it would start.
    await page.waitForResponse((r) => isPoll(r.url()));
    await page.waitForRequest((r) => isPoll(r.url()));
    page.off('request', onRequest);
    expect(reads).toEqual([]);

    // A request is traffic: the next poll reads the cache again.
    expect(await ask()).toBe('hit');
    await page.waitForRequest((r) => new URL(r.url()).pathname === '/api/cache' && r.method() === 'GET', { timeout: 15_000 });
    await page.locator('[data-testid="cache-saved-requests"]', { hasText: '3' }).waitFor();
  }, 60_000);

  it('forces a model into the cache whatever the temperature, and lets it go again', async () => {
    // Runs after the test above, with the cache on.
    expect(await ask(1)).toBeNull();
    expect(await axeFindings(page)).toEqual([]);
    const input = page.getByTestId('cache-forced-input');
    await input.fill('llama-3.3-70b');
    await input.press('Enter');
    const chip = page.locator('[data-testid="cache-forced-model"][data-model="llama-3.3-70b"]');
    await chip.waitFor();
    expect(await input.inputValue()).toBe('');
    const stored = (await (await fetch(`${world.gw.url}/api/cache`, { headers: await adminHeaders(world.gw) })).json()) as CacheSettings;
    expect(stored.models).toEqual(['llama-3.3-70b']);
    expect(await ask(1)).toBe('miss');
    expect(await ask(1)).toBe('hit');
    await shot(page, 'dashboard-cache-forced-desktop', true);
    expect(await axeFindings(page)).toEqual([]);

    await page.getByRole('button', { name: '取消强制缓存 llama-3.3-70b' }).click();
    await chip.waitFor({ state: 'detached' });
    expect(await ask(1)).toBeNull();
    expect(errors).toEqual([]);
  }, 60_000);
});
