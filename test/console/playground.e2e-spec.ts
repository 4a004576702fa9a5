/**
 * 在线对话测试 in Chromium against the real gateway and the provider emulators:
 *
 * - a streamed chat answer grows on the page before it ends (the emulator paces its chunks), then
 *   shows who answered, the first-token and total times and the token usage;
 * - the stop button halts a slow stream: the text stops growing and the answer says it stopped;
 * - the emulator quotes the question back, so a question holding a fenced code block gets an
 *   answer with one: it renders as highlighted code;
 * - pinning a provider sends the request there only; failover shows on the answer; an upstream
 *   failure shows in the conversation with every attempt and can be retried;
 * - an image model draws (through POST /api/images/test) and the image shows;
 * - the states: models unreachable (with a working retry), a session the server dropped;
 * - no console errors, no request to another host, screenshots at desktop and phone width.
 */
import type { Locator, Page } from 'playwright-core';
import type { Emulator, ProviderId } from '../emulators/emulator.ts';
import type { Gateway } from '../support/gateway.ts';
import { DESKTOP, PHONE, login, shot, sleep, startConsoleWorld, watchErrors } from './browser.ts';
import type { ConsoleWorld } from './browser.ts';

declare const document: { querySelector(selector: string): { scrollTop: number; scrollHeight: number; clientHeight: number } | null };
declare const localStorage: { getItem(key: string): string | null };

const CHAT_MODEL = 'llama-3.3-70b';
/** llama-3.3-70b's routes in the seed catalog, by emulator id. */
const LLAMA_PROVIDERS: ProviderId[] = ['deepinfra', 'together', 'huggingface', 'pollinations'];

describe('在线对话测试 in Chromium', () => {
  let world: ConsoleWorld;
  let emu: Emulator;
  let gw: Gateway;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    world = await startConsoleWorld({
      // Deterministic routing for the failover check: DeepInfra first, then Together, then HuggingFace.
      ROUTING_STRATEGY: 'priority',
      DEEPINFRA_PRIORITY: '1',
      TOGETHER_PRIORITY: '2',
      HUGGINGFACE_PRIORITY: '3',
      // Paced streams take seconds; the emulators' default idle limit would cut them.
      UPSTREAM_IDLE_TIMEOUT_MS: '5000',
    });
    ({ emu, gw } = world);
    page = await world.context.newPage();
    errors = watchErrors(page);
    await login(page, gw);
  }, 300_000);

  afterAll(() => world?.close());

  afterEach(() => {
    emu.clearFaults();
    emu.setPacing({ chunks: 5, chunkDelayMs: 0 });
  });

  const answer = () => page.getByTestId('answer').last();
  const content = () => answer().getByTestId('answer-content');

  async function pickModel(id: string): Promise<void> {
    await page.getByTestId('model-input').click();
    await page.getByTestId('model-input').fill(id);
    await page.locator(`mat-option[data-model="${id}"]`).click();
    await page.getByTestId('chat-model').getByText(id, { exact: true }).waitFor();
  }

  async function pickProvider(name: string | null): Promise<void> {
    await page.getByTestId('provider-select').click();
    await (name ? page.locator(`mat-option[data-provider="${name}"]`) : page.getByRole('option', { name: '自动（网关路由）' })).click();
    await page.locator('.cdk-overlay-backdrop').waitFor({ state: 'detached' });
  }

  /** Sends a message and waits for its answer to be on the page, so that answer() is this one. */
  async function ask(text: string): Promise<void> {
    const before = await page.getByTestId('answer').count();
    await page.getByTestId('composer').fill(text);
    await page.getByTestId('send').click();
    await page.getByTestId('answer').nth(before).waitFor();
  }

  /** Waits for the last answer to finish (its detail line shows). */
  const finished = (a: Locator = answer()) => a.getByTestId('answer-meta').waitFor({ timeout: 20_000 });

  it('streams an answer that grows on the page, then says who answered, how fast and how many tokens', async () => {
    await page.goto(`${gw.url}/playground`);
    await page.getByTestId('welcome').waitFor();
    await pickModel(CHAT_MODEL);
    await shot(page, 'playground-empty-desktop');

    emu.setPacing({ chunks: 14, chunkDelayMs: 250 });
    const question = '你好，请详细介绍一下这个网关的故障转移机制，越详细越好。';
    await ask(question);
    await page.getByTestId('stop').waitFor();
    await content().waitFor();

    // Sample the answer while it streams: it grows, several times, before it is done.
    const lengths: number[] = [];
    while ((await answer().getByTestId('answer-meta').count()) === 0) {
      lengths.push((await content().innerText()).length);
      await sleep(100);
    }
    const final = (await content().innerText()).length;
    const growth = lengths.filter((n, i) => i === 0 || n !== lengths[i - 1]);
    expect(growth.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < growth.length; i++) expect(growth[i]).toBeGreaterThan(growth[i - 1]!);
    expect(growth.at(-1)).toBeLessThanOrEqual(final);
    expect(growth[0]).toBeLessThan(final);
    // The emulator quotes the question back, naming itself and the upstream model.
    expect(await content().innerText()).toMatch(new RegExp(`^Hello from deepinfra \\(.+\\)\\. You said: ${question}$`));

    // The detail line: provider, first token, total, tokens (usage from the stream's last chunk).
    expect(await answer().getByTestId('answer-provider').innerText()).toContain('DeepInfra');
    expect(await answer().getByTestId('answer-ttft').innerText()).toMatch(/^首字 \d+(\.\d+)? (ms|s)$/);
    expect(await answer().getByTestId('answer-total').innerText()).toMatch(/^总耗时 \d+(\.\d+)? s$/);
    expect(await answer().getByTestId('answer-tokens').innerText()).toMatch(/^Token \d+ \+ \d+ = \d+$/);
    expect(await answer().getByTestId('answer-failover').count()).toBe(0);
    await page.getByTestId('send').waitFor();

    // The request went to the playground endpoint with the conversation, and asked for usage.
    const sent = emu.requests('deepinfra').at(-1)!.body as { messages: Array<{ role: string; content: string }>; stream: boolean };
    expect(sent.stream).toBe(true);
    expect(sent.messages.at(-1)).toEqual({ role: 'user', content: question });
  }, 60_000);

  it('renders Markdown: a fenced code block comes back highlighted', async () => {
    emu.setPacing({ chunks: 6, chunkDelayMs: 60 });
    await ask('用 Python 写一个加法函数：\n```python\ndef add(a, b):\n    # 两数之和\n    return a + b\n```');
    await finished();
    const code = answer().locator('.md-code pre code.hljs.language-python');
    await code.waitFor();
    expect(await code.innerText()).toBe('def add(a, b):\n    # 两数之和\n    return a + b');
    expect(await code.locator('.hljs-keyword').first().innerText()).toBe('def');
    expect(await code.locator('.hljs-comment').innerText()).toBe('# 两数之和');
    expect(await answer().locator('.md-code-lang').innerText()).toBe('python');
    // Text around it is a paragraph; raw HTML never becomes markup.
    expect(await answer().locator('app-markdown p').first().innerText()).toContain('You said: 用 Python 写一个加法函数：');
    await answer().locator('[data-copy-code]').click();
    await answer().locator('[data-copy-code]').getByText('已复制').waitFor();

    // The second turn carried the first exchange.
    const sent = emu.requests('deepinfra').at(-1)!.body as { messages: Array<{ role: string }> };
    expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);

    await ask('<img src="https://evil.example/x.png" onerror="alert(1)"> **粗体** 与 `code`');
    await finished();
    expect(await answer().locator('app-markdown img').count()).toBe(0);
    expect(await answer().locator('app-markdown strong').innerText()).toBe('粗体');
    expect(await content().innerText()).toContain('<img src="https://evil.example/x.png" onerror="alert(1)">');
    await shot(page, 'playground-desktop');
  }, 60_000);

  it('a reasoning model shows its thinking apart from the answer; the picker searches and groups models', async () => {
    await page.getByTestId('model-input').click();
    await page.getByTestId('model-input').fill('deepseek-r1');
    await page.locator('mat-option[data-model="deepseek-r1"]').waitFor();
    const groups = (await page.locator('.playground-models .mat-mdc-optgroup-label').allInnerTexts()).map((t) => t.trim());
    expect(groups).toEqual([expect.stringMatching(/^推理 · \d+$/)]);
    await shot(page, 'playground-models-desktop');
    await page.locator('mat-option[data-model="deepseek-r1"]').click();
    await page.getByTestId('chat-model').getByText('deepseek-r1', { exact: true }).waitFor();
    await pickProvider('DeepInfra');

    await ask('1 + 1 等于几？');
    await finished();
    const thinking = answer().locator('details.reasoning');
    expect(await thinking.locator('summary').innerText()).toBe('思考过程');
    await thinking.locator('summary').click();
    expect(await thinking.locator('.reasoning-text').innerText()).toBe('Let me think about this.');
    expect(await content().innerText()).toMatch(/You said: 1 \+ 1 等于几？$/);

    await pickProvider(null);
    await pickModel(CHAT_MODEL);
  }, 60_000);

  it('the stop button halts a slow stream: the text stops growing and the answer says it stopped', async () => {
    emu.setPacing({ chunks: 30, chunkDelayMs: 300 });
    await ask('请给我讲一个很长很长的故事，讲得越长越好，一直讲下去不要停。');
    await content().waitFor();
    // (The screenshot's own wait lets the answer grow a little more.)
    await shot(page, 'playground-streaming-desktop');
    await page.getByTestId('stop').click();
    await answer().getByTestId('answer-note').getByText('已停止生成').waitFor();
    const stopped = await content().innerText();
    expect(stopped.length).toBeGreaterThan(0);
    await sleep(1200);
    expect(await content().innerText()).toBe(stopped);
    expect(await answer().getAttribute('data-status')).toBe('stopped');
    expect(stopped).not.toContain('不要停');
    await page.getByTestId('send').waitFor();
  }, 60_000);

  it('pins a provider, shows failover, and shows an upstream failure with every attempt (then retries)', async () => {
    // Pinned: only Together is asked.
    await pickProvider('Together');
    const before = emu.requests('deepinfra').length;
    await ask('只用 Together 回答');
    await finished();
    expect(await answer().getByTestId('answer-provider').innerText()).toMatch(/指定提供商\s*Together/);
    expect(emu.requests('deepinfra').length).toBe(before);
    expect((emu.requests('together').at(-1)!.body as { messages: unknown[] }).messages.length).toBeGreaterThan(1);

    // 自动 with DeepInfra failing once: Together answers, and the answer shows the failover.
    await pickProvider(null);
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 1 });
    await ask('第一家失败时会怎样？');
    await finished();
    expect(await answer().getByTestId('answer-provider').innerText()).toContain('Together');
    await answer().getByTestId('answer-failover').getByText('故障转移 1 次').waitFor();
    await answer().getByTestId('answer-failover').click();
    // The list opens on the click: wait for both tries before reading them.
    await answer().getByTestId('answer-attempts').locator('li').nth(1).waitFor();
    const tries = await answer().getByTestId('answer-attempts').locator('li').allInnerTexts();
    expect(tries[0]).toMatch(/^DeepInfra · 上游服务器错误（HTTP 500） · /);
    expect(tries[1]).toMatch(/^Together · 成功 · /);

    // Every provider fails: the error, in the conversation, with each attempt; retry works once they recover.
    for (const provider of LLAMA_PROVIDERS) emu.addFault({ provider, mode: 'status', status: 500 });
    await ask('现在呢？');
    const error = answer().getByTestId('answer-error');
    await error.waitFor();
    expect(await error.innerText()).toContain('所有提供商都失败了（HTTP 502）');
    // The last provider twice: a 500 on the only route left is retried once.
    expect(await error.locator('.attempts li').count()).toBe(LLAMA_PROVIDERS.length + 1);
    await shot(page, 'playground-error-desktop');
    emu.clearFaults();
    await error.getByTestId('answer-retry').click();
    await finished();
    expect(await answer().getAttribute('data-status')).toBe('done');
    expect(await page.getByTestId('answer-error').count()).toBe(0);
  }, 60_000);

  it('an image model draws, and the image shows in the conversation', async () => {
    await pickModel('flux');
    await page.getByTestId('image-size').click();
    await page.getByRole('option', { name: '512 × 512' }).click();
    await page.locator('.cdk-overlay-backdrop').waitFor({ state: 'detached' });
    await ask('黄昏时分的海边灯塔');
    const img = answer().getByTestId('answer-image');
    await img.waitFor({ timeout: 20_000 });
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid="answer-image"]') as unknown as { complete: boolean; naturalWidth: number } | null;
      return !!el && el.complete && el.naturalWidth > 0;
    });
    expect(await img.getAttribute('src')).toMatch(/^data:image\/(png|jpeg|webp);base64,/);
    await finished();
    expect(await answer().getByTestId('answer-provider').innerText()).toMatch(/PollinationsAI|Together|HuggingFace/);
    await shot(page, 'playground-image-desktop');

    // Phone width: settings fold into a panel; the conversation stays usable.
    await page.setViewportSize(PHONE);
    await page.getByTestId('settings-panel').waitFor();
    await shot(page, 'playground-image-phone');
    const panelHeader = page.getByTestId('settings-panel').locator('mat-expansion-panel-header');
    await panelHeader.click();
    await shot(page, 'playground-settings-phone');
    await pickModel(CHAT_MODEL);
    await panelHeader.click();
    await page.getByTestId('model-input').waitFor({ state: 'hidden' });
    emu.setPacing({ chunks: 4, chunkDelayMs: 50 });
    await ask('手机上也能看代码吗？\n```js\nconst sum = (a, b) => a + b; // 一个很长的注释，用来检查代码块在窄屏上是否横向滚动而不是撑破页面\n```');
    await finished();
    await answer().locator('code.hljs.language-javascript').waitFor();
    await shot(page, 'playground-phone');
    // Nothing sticks out sideways.
    const overflow = await page.evaluate(() => {
      const el = document.querySelector('.mat-drawer-content') as unknown as { scrollWidth: number; clientWidth: number };
      return el.scrollWidth - el.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize(DESKTOP);

    // Light theme.
    await page.getByTestId('theme-toggle').click();
    await shot(page, 'playground-light-desktop');
    await page.getByTestId('theme-toggle').click();

    // Clearing asks first.
    await page.getByTestId('clear').click();
    await page.getByTestId('clear').getByText('确认清空？').waitFor();
    await page.getByTestId('clear').click();
    await page.getByTestId('welcome').waitFor();
    expect(await page.getByTestId('answer').count()).toBe(0);
  }, 90_000);

  it('no console errors so far (but the one the browser logs itself for the 502 shown above)', () => {
    expect(errors).toEqual(['console: Failed to load resource: the server responded with a status of 502 (Bad Gateway)']);
  });

  it('states: models unreachable (retry works); a session the server dropped goes back to 登录', async () => {
    const other = await world.context.newPage();
    const otherErrors = watchErrors(other);
    await other.route('**/api/models', (route) => route.abort('connectionrefused'));
    await other.goto(`${gw.url}/playground`);
    await other.getByTestId('playground-unreachable').waitFor();
    await shot(other, 'playground-unreachable-desktop');
    await other.unroute('**/api/models');
    await other.getByTestId('playground-unreachable').getByRole('button', { name: '重试' }).click();
    await other.getByTestId('welcome').waitFor();
    // The browser logs the refused request itself.
    expect(otherErrors.every((e) => e.includes('Failed to load resource'))).toBe(true);

    // The server forgets the session (logged out elsewhere): the next message returns to 登录.
    const token = await other.evaluate(() => (JSON.parse(localStorage.getItem('g4f.console.session')!) as { token: string }).token);
    expect((await fetch(`${gw.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status).toBe(204);
    await other.getByTestId('composer').fill('还在吗？');
    await other.getByTestId('send').click();
    await other.waitForURL(/\/login\?returnUrl=%2Fplayground$/);
    await other.getByTestId('login-notice').getByText('登录已过期').waitFor();
    await other.close();
  }, 60_000);

  it('never requested anything from another host', () => {
    expect(world.requested).toEqual(expect.arrayContaining([`${gw.url}/api/chat/test`, `${gw.url}/api/images/test`]));
    expect(world.foreign()).toEqual([]);
  });
});
