/**
 * What every browser test of the console shares: Debian's Chromium (never a downloaded one) driven
 * by playwright-core, a gateway serving a private copy of the console build, login, error and
 * foreign-request watching, and screenshots under test-output/screenshots/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type Locator, type Page, chromium } from 'playwright-core';
import { startEmulator } from '../emulators/emulator.ts';
import type { Emulator, EmulatorOptions } from '../emulators/emulator.ts';
import { startGateway } from '../support/gateway.ts';
import type { Gateway } from '../support/gateway.ts';
import { copyConsoleBuild } from './console-build.ts';

/** The browser globals the page callbacks use (this project is typed without the DOM lib). */
export interface PageElement {
  textContent: string | null;
  scrollHeight: number;
  scrollTo(x: number, y: number): void;
  getBoundingClientRect(): { top: number };
}
interface DialogElement {
  classList: { contains(name: string): boolean };
  contains(other: unknown): boolean;
}
declare const document: {
  fonts: { ready: Promise<unknown> };
  scrollingElement: PageElement | null;
  activeElement: unknown;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<DialogElement>;
};
declare const window: { innerHeight: number };
interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}
declare const axe: { run(context: unknown, options: unknown): Promise<{ violations: Violation[] }> };

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** What axe-core finds serious or critical on the page as it is now, one line each. */
export async function axeFindings(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const { violations } = await page.evaluate(() => axe.run(document, { resultTypes: ['violations'] }));
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => `${n.target.join(' ')} ${n.failureSummary ?? ''}`.replace(/\s+/g, ' ').slice(0, 300)).join(' | ')}`,
    );
}

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-gpu',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
export const PASSWORD = 'admin-test-password';
export const SHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));
export const DESKTOP = { width: 1440, height: 900 };
export const PHONE = { width: 360, height: 780 };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What a page logged as errors, and threw. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

/** Waits for web fonts and animations, then writes test-output/screenshots/<name>.png. */
export async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  // From the top of the page, with no tooltip under a resting mouse.
  await page.mouse.move(1, 1);
  await page.evaluate(() => document.querySelector('.mat-drawer-content')?.scrollTo(0, 0));
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  await sleep(700);
  if (!fullPage) {
    await page.screenshot({ path: join(SHOTS, `${name}.png`) });
    return;
  }
  // The shell scrolls inside its content pane: grow the viewport to the page's height for one picture.
  const size = page.viewportSize()!;
  const height = await page.evaluate(() => {
    const content = document.querySelector('.mat-drawer-content') ?? document.scrollingElement!;
    return Math.max(content.scrollHeight + (content.getBoundingClientRect().top || 0), window.innerHeight);
  });
  await page.setViewportSize({ width: size.width, height: Math.ceil(height) });
  await sleep(500);
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  await page.setViewportSize(size);
}

/**
 * The newest dialog, once it has finished opening and put the focus where it puts it first. A
 * dialog moves the focus when its open animation ends (later on a loaded machine): a field filled
 * before then can have its typing land in the field the dialog focuses. Call after each click that
 * opens a dialog and before typing into it.
 */
export async function dialogReady(page: Page): Promise<Locator> {
  await page.waitForFunction(() => {
    const all = document.querySelectorAll('mat-dialog-container');
    const newest = all[all.length - 1];
    return (
      !!newest && newest.classList.contains('mdc-dialog--open') && !newest.classList.contains('mdc-dialog--opening') && newest.contains(document.activeElement)
    );
  });
  return page.locator('mat-dialog-container').last();
}

export const text = (page: Page, testId: string) => page.getByTestId(testId).innerText();

/** Logs in through 登录 and waits for the dashboard. */
export async function login(page: Page, gw: Gateway): Promise<void> {
  await page.goto(`${gw.url}/login`);
  await page.getByTestId('password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(/\/dashboard$/);
}

/** A browser test's world: emulator, gateway serving a private console build, Chromium. */
export interface ConsoleWorld {
  emu: Emulator;
  gw: Gateway;
  context: BrowserContext;
  /** This world's copy of the console build, served through CONSOLE_DIR. */
  consoleDir: string;
  /** Every URL the browser requested, from every page. */
  requested: string[];
  /** The requested URLs that were not the gateway's. */
  foreign(): string[];
  close(): Promise<void>;
}

/**
 * Starts the emulator (zero latency unless told otherwise), a gateway with `env` serving its own
 * copy of the console build, and a fresh Chromium profile at desktop size (with `browserArgs`
 * added to CHROMIUM_ARGS, e.g. a fake microphone).
 */
export async function startConsoleWorld(
  env: Record<string, string> = {},
  emulator: EmulatorOptions = { zeroLatency: true },
  browserArgs: string[] = [],
): Promise<ConsoleWorld> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  mkdirSync(SHOTS, { recursive: true });
  const consoleDir = mkdtempSync(join(tmpdir(), 'g4f-console-'));
  copyConsoleBuild(consoleDir);
  const emu = await startEmulator(emulator);
  const gw = await startGateway(emu, { CONSOLE_DIR: consoleDir, ...env });
  const profile = mkdtempSync(join(tmpdir(), 'g4f-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    args: [...CHROMIUM_ARGS, ...browserArgs],
    viewport: DESKTOP,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    serviceWorkers: 'block',
  });
  const requested: string[] = [];
  context.on('request', (req) => requested.push(req.url()));
  return {
    emu,
    gw,
    context,
    consoleDir,
    requested,
    foreign: () => requested.filter((u) => !u.startsWith(`${gw.url}/`)),
    async close() {
      await context.close();
      await gw.close();
      await emu.close();
      for (const dir of [profile, consoleDir]) rmSync(dir, { recursive: true, force: true });
    },
  };
}
