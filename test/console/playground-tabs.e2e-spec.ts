/**
 * 在线对话测试's 嵌入 and 语音识别 tabs in Chromium against the real gateway and the provider
 * emulators (whose vectors are a pure function of the text, and whose transcripts say how long the
 * audio was and who transcribed it, so every number on the page can be checked):
 *
 * - 嵌入: two inputs give their dimension, usage, provider, latency, each vector's first values and
 *   their cosine similarity; three give the similarity matrix; failover shows; all providers
 *   failing shows in Chinese with every attempt; the inputs survive a reload;
 * - 语音识别: an uploaded WAV comes back as text and timed segments (verbose_json) or as a WebVTT
 *   file; a file over TRANSCRIPTION_MAX_BYTES is refused before it is sent; a clip recorded from
 *   Chromium's fake microphone is transcribed;
 * - the chat tab is where it was; no console errors but the failures asked for, no request to
 *   another host, screenshots at desktop and phone width.
 */
import type { Page } from 'playwright-core';
import { embedText } from '../emulators/embedding-wire.ts';
import type { Emulator } from '../emulators/emulator.ts';
import { makeWav } from '../support/audio-upload.ts';
import type { Gateway } from '../support/gateway.ts';
import { DESKTOP, PHONE, axeFindings, login, shot, startConsoleWorld, text, watchErrors } from './browser.ts';
import type { ConsoleWorld } from './browser.ts';

declare const localStorage: { getItem(key: string): string | null };

const EMBEDDING_MODEL = 'bge-m3';
const DIMENSIONS = 1024;
const STT_MODEL = 'whisper-large-v3-turbo';
const MAX_BYTES = 256 * 1024;

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0) / (Math.hypot(...a) * Math.hypot(...b));

describe('在线对话测试 · 嵌入 and 语音识别 in Chromium', () => {
  let world: ConsoleWorld;
  let emu: Emulator;
  let gw: Gateway;
  let page: Page;
  let errors: string[];
  /** axe-core's serious and critical findings on each state the tabs show (the empty tabs are in quality.e2e-spec.ts). */
  const findings: string[] = [];
  const checkAxe = async (state: string) => findings.push(...(await axeFindings(page)).map((f) => `${state}: ${f}`));

  beforeAll(async () => {
    world = await startConsoleWorld(
      {
        // Deterministic routing for the failover check: DeepInfra first, then HuggingFace, then CloudflareAI.
        ROUTING_STRATEGY: 'priority',
        DEEPINFRA_PRIORITY: '1',
        HUGGINGFACE_PRIORITY: '3',
        CLOUDFLARE_PRIORITY: '5',
        BREAKER_FAILURE_THRESHOLD: '1000',
        TRANSCRIPTION_MAX_BYTES: String(MAX_BYTES),
      },
      { zeroLatency: true },
      // A microphone that plays a tone, allowed without asking.
      ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
    );
    ({ emu, gw } = world);
    page = await world.context.newPage();
    errors = watchErrors(page);
    await login(page, gw);
  }, 300_000);

  afterAll(() => world?.close());

  afterEach(() => emu.clearFaults());

  async function pick(selectTestId: string, value: string, attr = 'data-model'): Promise<void> {
    await page.getByTestId(selectTestId).click();
    await page.locator(`mat-option[${attr}="${value}"]`).click();
    await page.locator('.cdk-overlay-backdrop').waitFor({ state: 'detached' });
  }

  async function embed(inputs: string[]): Promise<void> {
    await page.getByTestId('emb-inputs').fill(inputs.join('\n'));
    await page.getByTestId('emb-send').click();
    await page.getByTestId('emb-send').waitFor();
  }

  it('嵌入: two inputs show their dimension, usage, provider, latency, first values and cosine similarity', async () => {
    await page.goto(`${gw.url}/playground`);
    await page.getByTestId('tab-embeddings').click();
    await page.waitForURL(/\/playground\?tab=embeddings$/);
    await page.getByTestId('emb-model').waitFor();
    await pick('emb-model-select', EMBEDDING_MODEL);
    await page.getByTestId('emb-model').getByText(EMBEDDING_MODEL, { exact: true }).waitFor();
    await shot(page, 'playground-embeddings-empty-desktop');

    const inputs = ['今天天气很好', 'The weather is nice today'];
    await embed(inputs);
    await page.getByTestId('emb-meta').waitFor();
    expect(await text(page, 'emb-dimensions')).toBe(String(DIMENSIONS));
    expect(await text(page, 'emb-count')).toBe('2 条');
    expect(await text(page, 'emb-provider')).toBe('DeepInfra');
    expect(Number(await text(page, 'emb-tokens'))).toBeGreaterThan(0);
    expect(await text(page, 'emb-total')).toMatch(/^\d+ ms$|^\d+\.\d+ s$/);

    const [a, b] = inputs.map((t) => embedText(t, DIMENSIONS));
    expect(await text(page, 'emb-similarity-value')).toBe(cosine(a!, b!).toFixed(4));
    const vectors = page.getByTestId('emb-vector');
    expect(await vectors.count()).toBe(2);
    const first = await vectors.nth(0).innerText();
    expect(first).toContain(inputs[0]);
    expect(first).toContain(
      `[${a!
        .slice(0, 6)
        .map((x) => x.toFixed(4))
        .join(', ')}, …]`,
    );
    expect(first).toContain(`${DIMENSIONS} 维 · 模长 1.0000`);
    await shot(page, 'playground-embeddings-desktop');
    await checkAxe('embeddings');
  });

  it('嵌入: three inputs give the similarity matrix; a failed first provider shows as failover', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, path: 'embedding' });
    const inputs = ['苹果', '香蕉', '汽车'];
    await embed(inputs);
    await page.getByTestId('emb-matrix').waitFor();
    const vectors = inputs.map((t) => embedText(t, DIMENSIONS));
    const rows = page.getByTestId('emb-matrix').locator('tbody tr');
    expect(await rows.count()).toBe(3);
    expect(await rows.nth(0).locator('td').nth(1).innerText()).toBe(cosine(vectors[0]!, vectors[1]!).toFixed(4));
    expect(await rows.nth(2).locator('td').nth(2).innerText()).toBe('1.0000');
    expect(await text(page, 'emb-provider')).toBe('HuggingFace');
    // The request log knows both tries.
    await page.getByTestId('emb-failover').click();
    const tries = await page.getByTestId('emb-attempts').locator('li').allInnerTexts();
    expect(tries).toHaveLength(2);
    expect(tries[0]).toMatch(/^DeepInfra · .*HTTP 500/);
    await shot(page, 'playground-embeddings-matrix-desktop');
    await checkAxe('embeddings-matrix');
  });

  it('嵌入: every provider failing reads in Chinese with each attempt; the inputs survive a reload', async () => {
    for (const provider of ['deepinfra', 'huggingface', 'cloudflare'] as const) emu.addFault({ provider, mode: 'status', status: 503, path: 'embedding' });
    await embed(['会失败的输入']);
    const error = page.getByTestId('tab-error');
    await error.waitFor();
    expect(await error.innerText()).toMatch(/所有提供商都失败了（HTTP 502），尝试了 \d+ 次。/);
    expect(await error.locator('li').count()).toBeGreaterThanOrEqual(3);
    await shot(page, 'playground-embeddings-error-desktop');
    await checkAxe('embeddings-error');

    await page.reload();
    await page.getByTestId('emb-inputs').waitFor();
    expect(await page.getByTestId('emb-inputs').inputValue()).toBe('会失败的输入');
    expect(await text(page, 'emb-model')).toBe(EMBEDDING_MODEL);
    // The chat tab's own storage is untouched.
    expect(await page.evaluate(() => localStorage.getItem('g4f.console.playground.conversation'))).toBeNull();
  });

  it('嵌入 at phone width', async () => {
    emu.clearFaults();
    await embed(['手机上的第一条', '手机上的第二条']);
    await page.getByTestId('emb-similarity').waitFor();
    await page.setViewportSize(PHONE);
    await shot(page, 'playground-embeddings-phone', true);
    await page.setViewportSize(DESKTOP);
  });

  it('语音识别: an uploaded WAV comes back as text and timed segments, with provider and latency; vtt as a subtitle file', async () => {
    await page.getByTestId('tab-transcription').click();
    await page.waitForURL(/\/playground\?tab=transcription$/);
    await page.getByTestId('stt-model').getByText(STT_MODEL, { exact: true }).waitFor();
    expect(await text(page, 'stt-limit')).toContain('不超过 256 KB（TRANSCRIPTION_MAX_BYTES）');
    expect(await page.getByTestId('stt-send').isDisabled()).toBe(true);
    await shot(page, 'playground-transcription-empty-desktop');

    await page.getByTestId('stt-file').setInputFiles({ name: 'clip.wav', mimeType: 'audio/wav', buffer: makeWav(1.5) });
    expect(await text(page, 'stt-file-name')).toBe('clip.wav');
    // The chosen clip can be heard before it is sent.
    await page.locator('audio.player').waitFor();
    const duration = await page
      .locator('audio.player')
      .evaluate((el: { duration: number; readyState: number; addEventListener(type: string, listener: () => void): void }) =>
        el.readyState >= 1 ? el.duration : new Promise<number>((resolve) => el.addEventListener('loadedmetadata', () => resolve(el.duration))),
      );
    expect(duration).toBeCloseTo(1.5, 1);
    await page.getByTestId('stt-send').click();
    await page.getByTestId('stt-meta').waitFor();
    expect(await text(page, 'stt-provider')).toBe('DeepInfra');
    expect(await text(page, 'stt-total')).toMatch(/^\d+ ms$|^\d+\.\d+ s$/);
    expect(await text(page, 'stt-text')).toMatch(/^Transcribed 1\.50 s of audio with /);
    expect(await page.getByTestId('stt-segment').count()).toBe(2);
    expect(await page.getByTestId('stt-segment').nth(1).innerText()).toMatch(/^0:00\.75\s+0:01\.50\s+\S/);
    await shot(page, 'playground-transcription-desktop');
    await checkAxe('transcription');

    await pick('stt-format-select', 'vtt', 'data-format');
    await page.getByTestId('stt-send').click();
    await page
      .getByTestId('stt-text')
      .getByText(/^WEBVTT/)
      .waitFor();
    expect(await page.getByTestId('stt-segment').count()).toBe(0);

    await checkAxe('transcription vtt');
    await page.setViewportSize(PHONE);
    await shot(page, 'playground-transcription-phone', true);
    await page.setViewportSize(DESKTOP);
  });

  it('语音识别: a file over TRANSCRIPTION_MAX_BYTES is refused before it is sent', async () => {
    const before = emu.requests().length;
    await page.getByTestId('stt-file').setInputFiles({ name: 'long.wav', mimeType: 'audio/wav', buffer: makeWav(10) });
    expect(await text(page, 'stt-file-problem')).toBe('文件有 313 KB，超过了服务器的上限 256 KB（TRANSCRIPTION_MAX_BYTES）。');
    expect(await page.getByTestId('stt-send').isDisabled()).toBe(true);
    expect(emu.requests().length).toBe(before);
  });

  it('语音识别: a clip recorded from the microphone is transcribed', async () => {
    await pick('stt-format-select', 'json', 'data-format');
    await page.getByTestId('stt-record').click();
    await page
      .getByTestId('stt-record')
      .getByText(/停止录音/)
      .waitFor();
    await page.waitForTimeout(1200);
    await page.getByTestId('stt-record').click();
    await page
      .getByTestId('stt-file-name')
      .getByText(/^录音-\d{6}\.webm$/)
      .waitFor();
    await page.getByTestId('stt-send').click();
    await page.getByTestId('stt-meta').getByText(/录音-/).waitFor();
    expect(await text(page, 'stt-text')).toMatch(/^Transcribed \d+\.\d\d s of audio with deepinfra/);
    const upload = emu.requests('deepinfra').filter((r) => /transcriptions$/.test(r.path));
    expect(upload.length).toBeGreaterThan(0);
  });

  it('the chat tab is still the first, and opens as before', async () => {
    await page.getByTestId('tab-chat').click();
    await page.waitForURL(/\/playground$/);
    await page.getByTestId('composer').waitFor();
  });

  it('axe finds nothing serious or critical in any of these states', () => {
    expect(findings).toEqual([]);
  });

  it('no console errors but the failures asked for; never requested anything from another host', () => {
    expect(errors.filter((e) => !/status of 502 \(Bad Gateway\)/.test(e))).toEqual([]);
    // (The clip's player reads a blob: URL of this page's own making: no network at all.)
    expect(world.foreign().filter((u) => !u.startsWith(`blob:${gw.url}/`))).toEqual([]);
  });
});
