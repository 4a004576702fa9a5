/**
 * What the browser suites of 模型浏览 (test/console/models-docs and auto-models) share: their world
 * and the page's model cards.
 */
import type { Page } from 'playwright-core';
import type { AdminModelList } from '#contracts';
import { startConsoleWorld, type ConsoleWorld } from '../console/browser.ts';
import { adminHeaders } from './admin.ts';

declare const document: { documentElement: { scrollWidth: number; clientWidth: number } };

/** A console world (zero-latency emulator, gateway, Chromium) whose pages may use the clipboard, as 复制 does. */
export async function startModelsWorld(): Promise<ConsoleWorld> {
  const world = await startConsoleWorld();
  try {
    await world.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: world.gw.url });
  } catch (err) {
    await world.close();
    throw err;
  }
  return world;
}

/** GET /api/models as the admin. */
export async function apiModels(gw: { url: string }): Promise<AdminModelList> {
  const res = await fetch(`${gw.url}/api/models`, { headers: await adminHeaders(gw) });
  if (res.status !== 200) throw new Error(`GET /api/models: ${res.status} ${await res.text()}`);
  return (await res.json()) as AdminModelList;
}

/** The model card of `id` on 模型浏览. */
export const card = (page: Page, id: string) => page.locator(`[data-testid="model-card"][data-model="${id}"]`);

/** Nothing is wider than the window (no sideways scrolling of the page). */
export async function fitsWidth(page: Page): Promise<void> {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
}
