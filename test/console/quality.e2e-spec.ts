/**
 * The console loads fast and reads well, in Chromium against the real gateway:
 *
 * - first load (登录, then 控制台) with an empty cache on a 2 Mbps link transfers ≤ 800 KB, with
 *   every script and style sent brotli-compressed;
 * - no icon ever shows as its ligature's name (clipped words such as "loc") while fonts load, and
 *   every icon on screen is one the icon font subset holds (apps/admin/generated/icons.json);
 * - axe-core finds nothing serious or critical on any page or dialog, in either theme;
 * - a skip link and a visible focus ring; at 1024 px the keys and logs tables keep their status
 *   and actions on screen;
 * - 在线对话测试 keeps its conversation across a reload until 清空 clears it;
 * - screenshots of every page at 1440, 1024 and 390 px under test-output/screenshots/quality-*.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { adminHeaders } from '../support/admin.ts';
import { postJson } from '../support/gateway.ts';
import type { Gateway } from '../support/gateway.ts';
import { ICONS } from './console-build.ts';
import { PASSWORD, axeFindings, login, shot, sleep, startConsoleWorld, watchErrors } from './browser.ts';
import type { ConsoleWorld } from './browser.ts';

declare const window: { __iconProblems?: string[]; requestAnimationFrame(cb: () => void): void; innerWidth: number };
declare const localStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void; clear(): void };
interface Box {
  top: number;
  left: number;
  right: number;
  width: number;
  height: number;
}
interface El {
  textContent: string | null;
  checkVisibility(options: unknown): boolean;
  getBoundingClientRect(): Box;
  contains(other: El): boolean;
  className: string;
  scrollWidth: number;
  clientWidth: number;
  closest(selector: string): El | null;
  getAttribute(name: string): string | null;
}
declare const document: {
  querySelectorAll(selector: string): Iterable<El>;
  activeElement: { tagName: string; getAttribute(name: string): string | null } | null;
  documentElement: { className: string };
  elementFromPoint(x: number, y: number): El | null;
};
declare function getComputedStyle(
  el: unknown,
  pseudo?: string,
): { fontFamily: string; outlineStyle: string; outlineWidth: string; content: string; borderTopWidth: string };

const BUDGET = 800_000;
/** 2 Mbps down, 1 Mbps up, 100 ms round trip: the proxied link the issue describes. */
const SLOW = { offline: false, latency: 100, downloadThroughput: 2_000_000 / 8, uploadThroughput: 1_000_000 / 8 };

const PAGES = [
  { path: 'dashboard', ready: '[data-testid="stat-requests-value"]' },
  { path: 'providers', ready: 'h1.page-title' },
  { path: 'models', ready: 'h1.page-title' },
  { path: 'playground', ready: 'h1.page-title' },
  { path: 'playground?tab=embeddings', ready: '[data-testid="emb-model"]' },
  { path: 'playground?tab=transcription', ready: '[data-testid="stt-model"]' },
  { path: 'keys', ready: '[data-testid="key-row"]' },
  { path: 'logs', ready: 'h1.page-title' },
  { path: 'api-docs', ready: 'h1.page-title' },
  { path: 'no-such-page', ready: 'app-state' },
];
const WIDTHS = [1440, 1024, 390];
/** The dialogs, opened by these buttons. */
const DIALOGS = [
  { path: 'keys', ready: '[data-testid="key-row"]', button: 'create-key' },
  { path: 'keys', ready: '[data-testid="key-row"]', button: 'edit-key' },
  { path: 'providers', ready: '[data-testid="provider-toggle"]', button: 'provider-key-count' },
  { path: 'providers', ready: '[data-testid="provider-toggle"]', button: 'provider-settings' },
  { path: 'providers', ready: '[data-testid="provider-toggle"]', button: 'add-upstream' },
  { path: 'models', ready: '[data-testid="model-card"]', button: 'routing-edit' },
  // A dialog over a dialog: a key's 额度, opened from the provider's keys.
  { path: 'providers', ready: '[data-testid="provider-toggle"]', button: 'provider-key-count', then: 'key-quota-edit' },
];

/**
 * Watches, on every animation frame from the first, each <mat-icon> the user could see: it must
 * render as one glyph (a ligature about 1em wide, not a word), and be in the subset.
 */
async function watchIcons(page: Page, subset: string[]): Promise<void> {
  await page.addInitScript((names: string[]) => {
    const known = new Set(names);
    const problems: string[] = [];
    window.__iconProblems = problems;
    const check = () => {
      for (const icon of document.querySelectorAll('mat-icon')) {
        const name = (icon.textContent ?? '').trim();
        if (!name || !icon.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
        if (!known.has(name)) problems.push(`not in the subset: ${name}`);
        // A ligature fits the icon's box; a word overflows it (mat-icon clips it: "loc", "vis").
        if (icon.scrollWidth > icon.clientWidth + 1 && problems.length < 50) {
          problems.push(
            `"${name}" shown as text (${icon.scrollWidth}px in a ${icon.clientWidth}px box, ${getComputedStyle(icon).fontFamily}, .${icon.className})`,
          );
        }
      }
      if (problems.length < 50) window.requestAnimationFrame(check);
    };
    window.requestAnimationFrame(check);
  }, subset);
}

async function open(page: Page, gw: Gateway, path: string, ready: string): Promise<void> {
  await page.goto(`${gw.url}/${path}`);
  await page.locator(ready).first().waitFor();
  // Polled data and lazy chunks settle; the icon font is in.
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(() => !document.documentElement.className.includes('icons-loading'));
}

describe('console load, icons and accessibility in Chromium', () => {
  let world: ConsoleWorld;
  let gw: Gateway;
  let subset: string[];

  beforeAll(async () => {
    world = await startConsoleWorld();
    gw = world.gw;
    // Written by the console build (scripts/icon-font.mjs), which starting the world ensures.
    subset = JSON.parse(readFileSync(ICONS, 'utf8')) as string[];
    // Something in every table: a live key, a revoked one, requests in the log.
    const admin = await adminHeaders(gw);
    const created = (await (await postJson(`${gw.url}/api/keys`, { name: '团队', rpmLimit: 60 }, admin)).json()) as { id: string; secret: string };
    const revoked = (await (await postJson(`${gw.url}/api/keys`, { name: '旧密钥' }, admin)).json()) as { id: string };
    await postJson(`${gw.url}/api/keys/${revoked.id}/revoke`, {}, admin);
    for (const model of ['llama-3.3-70b', 'gpt-4.1', 'no-such-model']) {
      await (
        await postJson(`${gw.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: '你好' }] }, { authorization: `Bearer ${created.secret}` })
      ).arrayBuffer();
    }
  }, 300_000);

  afterAll(() => world?.close());

  /** A new tab, logged in afresh (the profile keeps an earlier test's session and theme otherwise). */
  async function loggedIn(): Promise<Page> {
    const page = await world.context.newPage();
    await page.goto(`${gw.url}/login`);
    await page.evaluate(() => localStorage.clear());
    await login(page, gw);
    return page;
  }

  it('first load on a 2 Mbps link: ≤ 800 KB, compressed, and never an icon as text', async () => {
    const page = await world.context.newPage();
    const errors = watchErrors(page);
    await watchIcons(page, subset);
    const cdp = await world.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', SLOW);
    const responses = new Map<string, { url: string; encoding?: string; type: string }>();
    let bytes = 0;
    cdp.on('Network.responseReceived', (e) => {
      const headers = e.response.headers as Record<string, string>;
      responses.set(e.requestId, { url: e.response.url, encoding: headers['content-encoding'] ?? headers['Content-Encoding'], type: e.type });
    });
    cdp.on('Network.loadingFinished', (e) => {
      bytes += e.encodedDataLength;
    });

    await page.goto(`${gw.url}/`);
    await page.waitForURL(/\/login$/);
    await page.getByTestId('password').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.waitForURL(/\/dashboard$/, { timeout: 30_000 });
    await page.getByTestId('stat-requests-value').waitFor({ timeout: 30_000 });
    // The charts (echarts, the biggest chunk) are part of the first load: the log is not empty.
    await page.locator('[data-chart="requests"] canvas, [data-testid="charts-empty"]').first().waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('charts-empty').count()).toBe(0);
    await page.waitForLoadState('networkidle', { timeout: 30_000 });
    await sleep(500);

    const problems = await page.evaluate(() => window.__iconProblems ?? ['no icon watcher']);
    const loaded = [...responses.values()];
    const scripts = loaded.filter((r) => /\.(?:js|css)$/.test(new URL(r.url).pathname));
    await cdp.detach();
    await page.close();

    expect(problems).toEqual([]);
    expect(errors).toEqual([]);
    expect(scripts.length).toBeGreaterThan(2);
    // Every script and style but the smallest (under 1 KB, where compression saves next to nothing) comes brotli-compressed.
    const plain = scripts.filter((r) => r.encoding !== 'br').map((r) => new URL(r.url).pathname);
    expect(plain.filter((path) => statSync(join(world.consoleDir, path)).size >= 1024)).toEqual([]);
    expect(loaded.filter((r) => r.url.includes('material-symbols')).length).toBe(1);
    expect(bytes).toBeGreaterThan(50_000);
    expect(bytes).toBeLessThanOrEqual(BUDGET);
  }, 120_000);

  it('axe finds nothing serious or critical on any page, in either theme; screenshots at 1440, 1024 and 390 px', async () => {
    const page = await world.context.newPage();
    const errors = watchErrors(page);
    await watchIcons(page, subset);
    const findings: string[] = [];
    await page.goto(`${gw.url}/login`);
    await page.evaluate(() => localStorage.clear());
    for (const theme of ['light', 'dark']) {
      await page.evaluate((t) => localStorage.setItem('g4f.console.theme', t), theme);
      await open(page, gw, 'login', '[data-testid="password"]');
      findings.push(...(await axeFindings(page)).map((f) => `${theme} /login: ${f}`));
      for (const width of theme === 'dark' ? WIDTHS : []) {
        await page.setViewportSize({ width, height: width < 600 ? 844 : 900 });
        await shot(page, `quality-login-${width}`);
      }
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    await login(page, gw);
    for (const theme of ['dark', 'light']) {
      await page.evaluate((t) => localStorage.setItem('g4f.console.theme', t), theme);
      for (const { path, ready } of PAGES) {
        await page.setViewportSize({ width: 1440, height: 900 });
        await open(page, gw, path, ready);
        findings.push(...(await axeFindings(page)).map((f) => `${theme} /${path}: ${f}`));
        if (theme === 'dark') {
          for (const width of WIDTHS) {
            await page.setViewportSize({ width, height: width < 600 ? 844 : 900 });
            await shot(page, `quality-${path.replace(/\?tab=/, '-')}-${width}`);
          }
        }
      }
    }
    expect(findings).toEqual([]);
    expect(await page.evaluate(() => window.__iconProblems)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
  it('axe finds nothing serious or critical in the dialogs either, in either theme', async () => {
    const page = await loggedIn();
    const findings: string[] = [];
    for (const theme of ['dark', 'light']) {
      await page.evaluate((t) => localStorage.setItem('g4f.console.theme', t), theme);
      for (const { path, ready, button, then } of DIALOGS) {
        await open(page, gw, path, ready);
        await page.getByTestId(button).first().click();
        // Measured once opened: half-way through its fade-in, every colour reads as too faint.
        await page.locator('.mat-mdc-dialog-container.mdc-dialog--open:not(.mdc-dialog--opening)').waitFor();
        if (then) {
          await page.getByTestId(then).first().click();
          await page.locator('.mat-mdc-dialog-container.mdc-dialog--open:not(.mdc-dialog--opening)').nth(1).waitFor();
        }
        await page.waitForLoadState('networkidle');
        await sleep(500);
        const name = then ?? button;
        findings.push(...(await axeFindings(page)).map((f) => `${theme} /${path} (${name} dialog): ${f}`));
        if (theme === 'dark') await shot(page, `quality-${name}-dialog-1440`);
        for (let left = then ? 2 : 1; left > 0; left--) {
          await page.keyboard.press('Escape');
          await page
            .locator('mat-dialog-container')
            .nth(left - 1)
            .waitFor({ state: 'detached' });
        }
      }
    }
    await page.close();
    expect(findings).toEqual([]);
  }, 180_000);

  it('keeps status and actions of the keys and logs tables on screen at 1024, 1280 and 1440 px', async () => {
    const page = await loggedIn();
    const hidden: string[] = [];
    for (const width of [1024, 1280, 1440]) {
      await page.setViewportSize({ width, height: 900 });
      for (const [path, ready, selectors] of [
        ['keys', '[data-testid="key-row"]', ['key-status', 'edit-key', 'revoke-key']],
        ['logs', '[data-testid="log-row"]', ['log-status', 'expand-row']],
      ] as const) {
        await open(page, gw, path, ready);
        const offScreen = await page.evaluate((ids: readonly string[]) => {
          const out: string[] = [];
          for (const id of ids) {
            const found = [...document.querySelectorAll(`[data-testid="${id}"]`)];
            if (!found.length) out.push(`${id}: none`);
            for (const el of found) {
              const r = el.getBoundingClientRect();
              const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
              if (r.left < 0 || r.right > window.innerWidth || !top || !(el === top || el.contains(top)))
                out.push(`${id} at x ${Math.round(r.left)}–${Math.round(r.right)}`);
            }
          }
          return out;
        }, selectors);
        hidden.push(...offScreen.map((h) => `${width}px /${path}: ${h}`));
      }
    }
    await page.close();
    expect(hidden).toEqual([]);
  }, 120_000);
  it('a skip link first, then a focus ring on every control the Tab key reaches', async () => {
    const page = await loggedIn();
    await open(page, gw, 'providers', '[data-testid="provider-toggle"]');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('skip-link');
    expect(await page.getByTestId('skip-link').innerText()).toBe('跳到主要内容');
    expect((await page.getByTestId('skip-link').boundingBox())!.y).toBeGreaterThanOrEqual(0);
    await shot(page, 'quality-skip-link-1440');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('id'))).toBe('main-content');
    expect(page.url()).toBe(`${gw.url}/providers`);

    // From the main region on: the page's own controls (buttons, links, toggles, fields).
    const rings: string[] = [];
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press('Tab');
      rings.push(
        await page.evaluate(() => {
          const el = document.activeElement as unknown as El & {
            tagName: string;
            querySelector(s: string): El | null;
            classList: { contains(c: string): boolean };
          };
          const name = `${el.tagName.toLowerCase()}.${el.className.replace(/\s+/g, '.')}${el.getAttribute('data-testid') ? `[${el.getAttribute('data-testid')}]` : ''}`;
          const own = getComputedStyle(el);
          if (own.outlineStyle !== 'none' && parseFloat(own.outlineWidth) >= 2) return `${name}: ring`;
          // Material draws its strong focus indicator as ::before of a .mat-focus-indicator element.
          for (const candidate of [el, el.querySelector('.mat-focus-indicator'), el.closest('.mat-focus-indicator')]) {
            if (!candidate) continue;
            const before = getComputedStyle(candidate, '::before');
            if (before.content !== 'none' && parseFloat(before.borderTopWidth) >= 2) return `${name}: ring`;
          }
          // A select or input shows focus through its form field: the outline thickens in the primary colour.
          const field = el.closest('.mat-mdc-form-field') as (El & { classList: { contains(c: string): boolean }; querySelector(s: string): El | null }) | null;
          const edge = field?.classList.contains('mat-focused') ? field.querySelector('.mdc-notched-outline__leading') : null;
          if (edge && parseFloat(getComputedStyle(edge).borderTopWidth) >= 2) return `${name}: ring`;
          return `${name}: no ring`;
        }),
      );
    }
    await shot(page, 'quality-focus-ring-1440');
    await page.close();
    expect(rings.filter((r) => r.endsWith('no ring'))).toEqual([]);
  }, 60_000);

  it('在线对话测试 keeps its conversation across a reload until 清空对话', async () => {
    const page = await loggedIn();
    await open(page, gw, 'playground', '[data-testid="welcome"]');
    await page.getByTestId('composer').fill('记住这句话');
    await page.getByTestId('send').click();
    await page.getByTestId('answer').getByTestId('answer-meta').waitFor({ timeout: 20_000 });
    const said = await page.getByTestId('answer-content').innerText();
    expect(said.length).toBeGreaterThan(0);

    await page.reload();
    await page.getByTestId('answer').getByTestId('answer-meta').waitFor();
    expect(await page.getByText('记住这句话', { exact: true }).count()).toBe(1);
    expect(await page.getByTestId('answer-content').innerText()).toBe(said);
    await shot(page, 'quality-playground-restored-1440');

    await page.getByTestId('clear').click();
    await page.getByTestId('clear').getByText('确认清空？').waitFor();
    await page.getByTestId('clear').click();
    await page.getByTestId('welcome').waitFor();
    await page.reload();
    await page.getByTestId('welcome').waitFor();
    expect(await page.getByTestId('answer').count()).toBe(0);
    expect(await page.evaluate(() => localStorage.getItem('g4f.console.playground.conversation'))).toBeNull();
    await page.close();
  }, 60_000);
});
