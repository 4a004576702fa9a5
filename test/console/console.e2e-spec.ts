/**
 * The admin console in a real browser: Debian's Chromium (never a downloaded one) driven by
 * playwright-core against the real gateway and the provider emulators.
 *
 * - the API serves the built console at `/` with an SPA fallback that leaves the API's paths alone;
 * - log in, watch the dashboard's numbers move after a chat request (live polling), switch pages
 *   and theme, with no console error and no request to any host but the gateway;
 * - the states: wrong password, expired session (→ 登录), API unreachable, logout;
 * - a screenshot of every page at desktop (1440x900) and phone (360x780) width, written under
 *   test-output/screenshots/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Emulator, ProviderId } from '../emulators/emulator.ts';
import { postJson } from '../support/gateway.ts';
import type { Gateway } from '../support/gateway.ts';
import { DESKTOP, PASSWORD, PHONE, shot, startConsoleWorld, text, watchErrors } from './browser.ts';
import type { ConsoleWorld } from './browser.ts';

declare const document: {
  documentElement: { className: string };
  querySelector(selector: string): { textContent: string | null } | null;
};
declare const localStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void; clear(): void };

const PAGES = [
  { path: 'providers', label: '提供商管理' },
  { path: 'models', label: '模型浏览' },
  { path: 'playground', label: '在线对话测试' },
  { path: 'keys', label: 'API 密钥' },
  { path: 'logs', label: '请求日志' },
  { path: 'api-docs', label: 'API 文档' },
];
const ALL_PROVIDERS: ProviderId[] = ['pollinations', 'deepinfra', 'together', 'huggingface', 'cloudflare'];

async function chat(gw: Gateway, model = 'llama-3.3-70b'): Promise<number> {
  const res = await postJson(`${gw.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: '你好' }] });
  await res.arrayBuffer();
  return res.status;
}

/** The page's title once it has rendered (every page shows one, in the shell's content pane). */
async function pageTitle(page: Page, label: string): Promise<void> {
  await page.locator('h1.page-title').getByText(label, { exact: true }).waitFor();
}

describe('admin console in Chromium', () => {
  let world: ConsoleWorld;
  let emu: Emulator;
  let gw: Gateway;
  let consoleDir: string;

  beforeAll(async () => {
    world = await startConsoleWorld();
    ({ emu, gw } = world);
    consoleDir = world.consoleDir;
  }, 300_000);

  afterAll(() => world?.close());

  describe('served by the API', () => {
    it('answers pages with the console and leaves the API paths to the API', async () => {
      const index = readFileSync(join(consoleDir, 'index.html'), 'utf8');
      for (const path of ['/', '/dashboard', '/providers', '/models/gpt-4.1', '/login?returnUrl=%2Fkeys']) {
        const res = await fetch(`${gw.url}${path}`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
        expect([path, res.status]).toEqual([path, 200]);
        expect(await res.text()).toBe(index);
        expect(res.headers.get('cache-control')).toBe('no-cache');
        expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
      }
      // The API's own answers, even to a browser asking for HTML.
      for (const path of ['/v1/nope', '/api/nope', '/v1', '/api']) {
        const res = await fetch(`${gw.url}${path}`, { headers: { accept: 'text/html' } });
        expect([path, res.status, res.headers.get('content-type')]).toEqual([path, 404, expect.stringContaining('application/json')]);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unknown_url');
      }
      const health = await fetch(`${gw.url}/health`, { headers: { accept: 'text/html' } });
      expect(health.headers.get('content-type')).toContain('application/json');
      const metrics = await fetch(`${gw.url}/metrics`, { headers: { accept: 'text/html' } });
      expect(await metrics.text()).toContain('# HELP');
      expect(await (await fetch(`${gw.url}/docs`, { headers: { accept: 'text/html' } })).text()).not.toBe(index);
      // A script or asset that does not exist is a 404, not the page.
      const missing = await fetch(`${gw.url}/chunk-NOPE1234.js`);
      expect(missing.status).toBe(404);
      // Hashed assets are cached for good; the rest is revalidated.
      const script = /<script src="(main-[\w-]+\.js)"/.exec(index)![1]!;
      const asset = await fetch(`${gw.url}/${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toContain('javascript');
      expect(asset.headers.get('cache-control')).toContain('immutable');
      expect((await fetch(`${gw.url}/theme-init.js`)).headers.get('cache-control')).toBe('no-cache');
      // Non-GET requests to console paths stay the API's.
      expect((await fetch(`${gw.url}/dashboard`, { method: 'POST', headers: { accept: 'text/html' } })).status).toBe(404);
    });
  });

  describe('in the browser', () => {
    it('logs in, shows live numbers that move after a chat request, every page, both themes', async () => {
      const page = await world.context.newPage();
      const errors = watchErrors(page);

      // Not logged in: 登录.
      await page.goto(`${gw.url}/`);
      await page.waitForURL(/\/login$/);
      await page.getByTestId('password').waitFor();
      expect(await page.title()).toContain('登录');
      await shot(page, 'login-desktop');

      await page.getByTestId('password').fill(PASSWORD);
      await page.getByTestId('login-submit').click();
      await page.waitForURL(/\/dashboard$/);
      await page.getByTestId('stat-requests-value').waitFor();

      // A fresh gateway: nothing yet, and the charts say how to get started.
      expect(await text(page, 'stat-requests-value')).toBe('0');
      await page.getByTestId('charts-empty').waitFor();
      expect(await text(page, 'stat-providers-value')).toMatch(/^5\s*\/\s*5$/);
      expect(Number(await text(page, 'stat-models-value'))).toBeGreaterThan(10);
      const baseUrl = await text(page, 'base-url');
      expect(baseUrl).toBe(`${gw.url}/v1`);
      expect(await page.locator('pre.code').innerText()).toContain(`base_url="${gw.url}/v1"`);
      // No key anywhere: /v1 answers only this machine, and the dashboard says how to open it.
      await page.getByTestId('api-access-notice').waitFor();
      expect(await text(page, 'api-access-notice')).toMatch(/只对本机开放[\s\S]*ALLOW_OPEN_API=true/);
      await shot(page, 'dashboard-empty-desktop');

      // One chat request: the dashboard shows it on its next poll, without a reload.
      const navigations: string[] = [];
      page.on('framenavigated', (f) => f === page.mainFrame() && navigations.push(f.url()));
      expect(await chat(gw)).toBe(200);
      await page.waitForFunction(() => document.querySelector('[data-testid="stat-requests-value"]')?.textContent?.trim() === '1', null, {
        timeout: 15_000,
      });
      expect(await text(page, 'stat-success-rate-value')).toBe('100%');
      await page.locator('[data-chart="requests"] canvas').first().waitFor();
      expect(navigations).toEqual([]);

      // Some traffic, one failure among it, for the charts and the screenshots.
      for (let i = 0; i < 8; i++) expect(await chat(gw, i % 2 ? 'llama-3.3-70b' : 'gpt-4o-mini')).toBe(200);
      // Twice each: a 500 on the only route left is retried once.
      for (const provider of ALL_PROVIDERS) emu.addFault({ provider, mode: 'status', status: 500, times: 2 });
      expect(await chat(gw, 'gpt-4o-mini')).toBeGreaterThanOrEqual(500);
      emu.clearFaults();
      await page.waitForFunction(() => document.querySelector('[data-testid="stat-requests-value"]')?.textContent?.trim() === '10', null, {
        timeout: 15_000,
      });
      expect(await text(page, 'stat-success-rate-value')).toBe('90.0%');

      // 用量细分: 5 requests for each model (one failed), then all 10 made without a client key.
      const breakdown = page.getByTestId('usage-breakdown');
      await breakdown.scrollIntoViewIfNeeded();
      const table = async () =>
        (await breakdown.locator('[data-testid="breakdown-table"] tbody tr').allInnerTexts()).map((r) => r.split('\t').map((c) => c.trim()));
      expect((await table()).map((r) => [r[0], r[1], r[2]])).toEqual([
        ['gpt-4o-mini', '5', '80.0%'],
        ['llama-3.3-70b', '5', '100%'],
      ]);
      expect(await breakdown.locator('[data-testid="breakdown-bars"] li').count()).toBe(2);
      await breakdown.getByRole('radio', { name: '客户端密钥' }).click();
      await page.locator('[data-testid="usage-breakdown"][data-dimension="key"]').waitFor();
      expect((await table()).map((r) => [r[0], r[1]])).toEqual([['（无密钥）', '10']]);
      await breakdown.getByRole('radio', { name: '模型' }).click();

      // Copy buttons (the CDK clipboard works on plain HTTP too).
      for (const id of ['python', 'curl', 'javascript']) {
        await page.locator(`[data-snippet="${id}"] button`).click();
        await page.locator(`pre.code[data-language="${id}"]`).waitFor();
        await page.getByTestId('copy-snippet').click();
        await page.getByTestId('copy-snippet').getByText('已复制').waitFor();
      }
      await page.locator('[data-snippet="python"] button').click();

      await shot(page, 'dashboard-desktop');
      await shot(page, 'dashboard-full-desktop', true);

      // Every menu entry (each page's own spec checks what it shows).
      for (const { path, label } of PAGES) {
        await page.locator(`[data-nav="${path}"]`).click();
        await page.waitForURL(new RegExp(`/${path}$`));
        await pageTitle(page, label);
        expect(await page.title()).toContain(label);
        await shot(page, `nav-${path}-desktop`);
      }
      await page.locator('[data-nav="dashboard"]').click();
      await page.waitForURL(/\/dashboard$/);

      // Light theme, remembered across a reload.
      await page.getByTestId('theme-toggle').click();
      expect(await page.evaluate(() => document.documentElement.className)).toContain('theme-light');
      await page.reload();
      await page.getByTestId('stat-requests-value').waitFor();
      expect(await page.evaluate(() => document.documentElement.className)).toContain('theme-light');
      await page.locator('[data-chart="latency"] canvas').first().waitFor();
      await shot(page, 'dashboard-light-desktop');
      await page.getByTestId('theme-toggle').click();
      expect(await page.evaluate(() => document.documentElement.className)).toContain('theme-dark');

      // Phone width.
      await page.setViewportSize(PHONE);
      await page.locator('[data-chart="requests"] canvas').first().waitFor();
      await shot(page, 'dashboard-phone');
      await shot(page, 'dashboard-full-phone', true);
      await page.getByRole('button', { name: '打开导航菜单' }).click();
      await page.locator('[data-nav="providers"]').waitFor({ state: 'visible' });
      await shot(page, 'navigation-phone');
      await page.locator('[data-nav="providers"]').click();
      await page.waitForURL(/\/providers$/);
      for (const { path, label } of PAGES) {
        await page.goto(`${gw.url}/${path}`);
        await pageTitle(page, label);
        await shot(page, `nav-${path}-phone`);
      }
      await page.getByTestId('logout').click();
      await page.waitForURL(/\/login$/);
      await page.getByTestId('login-notice').getByText('已退出登录').waitFor();
      await shot(page, 'login-phone');
      await page.setViewportSize(DESKTOP);

      expect(errors).toEqual([]);
      await page.close();
    }, 180_000);

    it('shows the states: wrong password, API unreachable, expired session', async () => {
      const page = await world.context.newPage();
      await page.goto(`${gw.url}/login`);

      // Logged out (the previous test's session is in the same browser profile).
      await page.evaluate(() => localStorage.clear());
      await page.reload();

      // Wrong password: said on the page (the browser logs the 401 itself; not checked here).
      await page.getByTestId('password').fill('not-the-password');
      await page.getByTestId('login-submit').click();
      await page.getByTestId('login-error').getByText('密码错误').waitFor();

      await page.getByTestId('password').fill(PASSWORD);
      await page.getByTestId('login-submit').click();
      await page.getByTestId('stat-requests-value').waitFor();

      // The API stops answering: the dashboard keeps its numbers, says so, and recovers by itself.
      await page.route('**/api/**', (route) => route.abort('connectionrefused'));
      await page.getByTestId('stale-banner').getByText('无法连接到服务器').waitFor({ timeout: 15_000 });
      expect(await text(page, 'stat-requests-value')).toMatch(/^\d+$/);
      await shot(page, 'dashboard-stale-desktop');
      // A fresh load while it is down: the unreachable state, with a retry button that works.
      await page.reload();
      await page.getByTestId('dashboard-unreachable').waitFor();
      await shot(page, 'dashboard-unreachable-desktop');
      await page.unroute('**/api/**');
      await page.getByTestId('dashboard-unreachable').getByRole('button', { name: '重试' }).click();
      await page.getByTestId('stat-requests-value').waitFor();

      // The server no longer knows the session (expired, or logged out elsewhere): back to 登录.
      await page.evaluate(() => {
        const key = 'g4f.console.session';
        const s = JSON.parse(localStorage.getItem(key)!) as { token: string; expiresAt: number };
        localStorage.setItem(key, JSON.stringify({ ...s, token: 'revoked-token' }));
      });
      await page.goto(`${gw.url}/keys`);
      await page.waitForURL(/\/login\?returnUrl=%2Fkeys$/);
      await page.getByTestId('login-notice').getByText('登录已过期').waitFor();
      await shot(page, 'login-expired-desktop');
      // Logging in again returns to where the admin was.
      await page.getByTestId('password').fill(PASSWORD);
      await page.getByTestId('login-submit').click();
      await page.waitForURL(/\/keys$/);

      // A session whose expiry has passed never even reaches the API.
      await page.evaluate(() => {
        const key = 'g4f.console.session';
        const s = JSON.parse(localStorage.getItem(key)!) as { token: string; expiresAt: number };
        localStorage.setItem(key, JSON.stringify({ ...s, expiresAt: Date.now() - 1000 }));
      });
      await page.goto(`${gw.url}/dashboard`);
      await page.waitForURL(/\/login$/);
      await page.getByTestId('login-notice').getByText('登录已过期').waitFor();
      await page.close();
    }, 120_000);

    it('never requested anything from another host', () => {
      expect(world.requested.length).toBeGreaterThan(20);
      expect(world.foreign()).toEqual([]);
    });
  });
});
