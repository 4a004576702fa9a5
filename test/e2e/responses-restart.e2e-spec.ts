/**
 * A stored response outlives the process that answered it: written (from its own thread, into
 * the responses file beside the database) within moments of the answer, it is there after a
 * crash, and `previous_response_id` continues the conversation on the restarted gateway.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { FIXED_ORDER_ENV, emulatorEnv, postJson } from '../support/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';

let emu: Emulator;
const running: GatewayProcess[] = [];

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
});
afterAll(async () => {
  await Promise.all(running.map((g) => g.stop()));
  await emu?.close();
});

interface ResponseBody {
  id: string;
  status: string;
  output: { type: string; content?: { text: string }[] }[];
}

it('survives a crash of the gateway (SIGKILL) and continues the conversation after the restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'g4f-responses-restart-'));
  const env = { ...emulatorEnv(emu), ...FIXED_ORDER_ENV, DATA_DIR: dataDir };
  const first = await startGatewayProcess(env);
  running.push(first);
  const res = await postJson(`${first.url}/v1/responses`, { model: 'llama-3.3-70b', input: 'Remember the word tangerine.' });
  expect(res.status).toBe(200);
  const answer = (await res.json()) as ResponseBody;
  // The batch leaves within WRITE_BEHIND_MS (50 ms); give the thread time to commit it.
  await new Promise((r) => setTimeout(r, 500));
  first.kill('SIGKILL');
  await first.exited;
  expect(existsSync(join(dataDir, 'gpt4free-pool-responses.db'))).toBe(true);

  const second = await startGatewayProcess(env);
  running.push(second);
  const stored = await fetch(`${second.url}/v1/responses/${answer.id}`);
  expect(stored.status).toBe(200);
  expect(((await stored.json()) as ResponseBody).output).toEqual(answer.output);

  emu.reset();
  const next = await postJson(`${second.url}/v1/responses`, { model: 'llama-3.3-70b', input: 'Which word?', previous_response_id: answer.id });
  expect(next.status).toBe(200);
  const sent = emu.requests('deepinfra')[0]!.body as { messages: { role: string; content: unknown }[] };
  expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
  expect(JSON.stringify(sent.messages[0]!.content)).toContain('tangerine');
}, 60_000);
