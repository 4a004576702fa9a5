/**
 * The built gateway starts and serves without building an Intl.DateTimeFormat: the first one
 * loads ICU's locale, calendar and zone data, ~7 MB of RSS for the life of the process (issue 20).
 * Nest's logger modules build two when imported (deferred, never used: GatewayLogger formats its
 * own timestamp), the quota zone and wall clock build one for UTC, and a @Cron job builds one
 * through luxon. A preload prints a line for each one built.
 */
import { fileURLToPath } from 'node:url';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import { emulatorEnv, postJson } from '../support/gateway.ts';

const PRELOAD = fileURLToPath(new URL('../support/count-date-formats.mjs', import.meta.url));
const BUILT = /DATE-TIME-FORMAT BUILT.*/g;
/** The colours of Nest's log lines (ESC [ n m). */
const COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[\\d;]+m`, 'g');

let emu: Emulator;
let gw: GatewayProcess | undefined;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
}, 30_000);

afterAll(async () => {
  await gw?.stop(5000);
  await emu?.close();
}, 30_000);

describe('a lean start (issue 20)', () => {
  it('builds no Intl.DateTimeFormat to start, log and stream an answer; log lines keep their en-US timestamp', async () => {
    gw = await startGatewayProcess({ ...emulatorEnv(emu), NODE_OPTIONS: `--import ${PRELOAD}` });
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'llama-3.3-70b', messages: [{ role: 'user', content: 'hi' }], stream: true });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('data: [DONE]');

    const output = gw.output();
    // The preload ran (it would print for the first formatter built), and nothing built one.
    expect(output).toMatch(/Listening on/);
    expect(output.match(BUILT) ?? []).toEqual([]);
    expect(output.replace(COLOURS, '')).toMatch(/\[Nest\] \d+ {2}- \d\d\/\d\d\/\d{4}, \d{1,2}:\d\d:\d\d [AP]M +LOG/);
  }, 30_000);

  it('the preload does see a formatter built (the check above can fail)', async () => {
    const quota = await startGatewayProcess({ ...emulatorEnv(emu), NODE_OPTIONS: `--import ${PRELOAD}`, QUOTA_TIME_ZONE: 'Asia/Shanghai' });
    try {
      expect(quota.output().match(BUILT)?.length).toBeGreaterThan(0);
    } finally {
      await quota.stop(5000);
    }
  }, 30_000);
});
