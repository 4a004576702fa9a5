/**
 * 控制台's response cache panel in Chromium: it shows the switch as RESPONSE_CACHE set it, turns
 * the cache on for the gateway (a repeated deterministic request is then answered from the cache),
 * and counts what the hits saved on its next poll, without a reload.
 */
import type { CacheSettings } from '#contracts';
import type { Page } from 'playwright-core';
import { adminHeaders } from '../support/admin.ts';
import { postJson } from '../support/gateway.ts';
import { login, shot, startConsoleWorld, watchErrors, type ConsoleWorld } from './browser.ts';

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

  const ask = async () => {
    const res = await postJson(`${world.gw.baseURL}/chat/completions`, {
      model: 'llama-3.3-70b',
      temperature: 0,
      messages: [{ role: 'user', content: '缓存测试' }],
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
});
