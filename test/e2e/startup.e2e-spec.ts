/**
 * What an operator sees when the built gateway starts (as `npm start` runs it): a short log that
 * says where things are and what can serve, and one clear line when the port is taken.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AdminAuthService } from '../../apps/api/src/auth/admin-auth.service.ts';
import { createApp } from '../../apps/api/src/bootstrap.ts';
import { loadConfig } from '../../apps/api/src/config/app-config.ts';
import { STORAGE, type Storage } from '../../apps/api/src/storage/storage.ts';
import { startEmulator } from '../emulators/emulator.ts';
import { freePort, runGatewayToExit, startGatewayProcess } from '../support/gateway-process.ts';
import { emulatorEnv } from '../support/gateway.ts';

/** The log as lines, without the colours Nest adds on a terminal. */
const lines = (output: string) => stripVTControlCharacters(output).trim().split('\n');

async function holdPort(): Promise<{ server: Server; port: number }> {
  const port = await freePort();
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port };
}

describe('a busy port', () => {
  it('is one line naming the port and PORT, exit 1, and nothing is stored; the next start shows a password that works', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'g4f-busy-'));
    const { server, port } = await holdPort();
    let result: { code: number | string; output: string };
    try {
      // No ADMIN_PASSWORD: the start that would generate one.
      result = await runGatewayToExit({ DATA_DIR: dataDir, ADMIN_PASSWORD: '', PORT: String(port) });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(result.code).toBe(1);
    const printed = lines(result.output);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(new RegExp(`^Port ${port} is already in use .*set PORT to a free port`));
    expect(result.output).not.toMatch(/successfully started|EADDRINUSE|generated the admin password/);
    // Neither a database (holding a generated password) nor anything else was written.
    expect(readdirSync(dataDir)).toEqual([]);

    const gw = await startGatewayProcess({ DATA_DIR: dataDir, ADMIN_PASSWORD: '' });
    try {
      const password = /generated the admin password "([^"]+)"/.exec(gw.output())?.[1];
      expect(password).toBeDefined();
      const login = await fetch(`${gw.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password }),
      });
      expect(login.status).toBe(200);
    } finally {
      await gw.stop();
    }
  }, 40_000);
});

describe('a port lost between the check and the listen', () => {
  const start = (dataDir: string) =>
    createApp(loadConfig({ DATA_DIR: dataDir, HEALTH_CHECK_INTERVAL: '0', DISCOVERY_INTERVAL_MINUTES: '0' }), { logger: false });
  const storedPassword = (app: NestExpressApplication) => app.get<Storage>(STORAGE).settings.get('admin', 'password');

  it('deletes the admin password this start generated, and only that one', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'g4f-race-'));
    const { server, port } = await holdPort();
    try {
      const app = await start(dataDir);
      try {
        await expect(app.listen(port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
        expect(await storedPassword(app)).toBeDefined();
        await app.get(AdminAuthService).forgetGeneratedPassword();
        expect(await storedPassword(app)).toBeUndefined();
      } finally {
        await app.close();
      }
      // A password stored by an earlier start is not this start's to delete.
      const earlier = await start(dataDir);
      await earlier.init();
      const kept = await storedPassword(earlier);
      await earlier.close();
      const app2 = await start(dataDir);
      try {
        await expect(app2.listen(port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
        await app2.get(AdminAuthService).forgetGeneratedPassword();
        expect(await storedPassword(app2)).toEqual(kept);
      } finally {
        await app2.close();
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the start-up log', () => {
  it('by default: at most 30 lines saying where the console, API and docs are, which providers can serve and why the others cannot', async () => {
    const gw = await startGatewayProcess({});
    expect(await gw.stop()).toBe(0);
    const printed = lines(gw.output());
    expect(printed.length).toBeLessThanOrEqual(30);
    const log = printed.join('\n');
    expect(log).toContain(`Listening on ${gw.url}`);
    expect(log).toMatch(new RegExp(`Admin console \\(管理控制台\\) (at ${gw.url}/|not built yet)`));
    expect(log).toContain(`OpenAI-compatible API at ${gw.url}/v1`);
    expect(log).toContain(`${gw.url}/docs`);
    // Without keys, only PollinationsAI (keyless) can serve; each other provider says what to set.
    expect(log).toMatch(/Usable providers \(1\): PollinationsAI \(\d+ models\)/);
    for (const [name, variable] of [
      ['DeepInfra', 'DEEPINFRA_API_KEY'],
      ['Together', 'TOGETHER_API_KEY'],
      ['HuggingFace', 'HUGGINGFACE_API_KEY'],
      ['CloudflareAI', 'CLOUDFLARE_API_TOKEN'],
    ]) {
      expect(log).toContain(`${name} not usable: needs an API key (${variable})`);
    }
    expect(log).toMatch(/Models available now: [1-9]\d* of \d+ \(chat \d+\/\d+, image \d+\/\d+, audio \d+\/\d+\)/);
    // Nest's per-module and per-route lines are debug output now.
    expect(log).not.toMatch(/Mapped \{|dependencies initialized|successfully started/);
  }, 30_000);

  it('stays short when keys are set and the first model-list read changes every route: one line per provider', async () => {
    const emu = await startEmulator({ zeroLatency: true });
    try {
      // Automatic model-list reads on (the test default turns them off).
      const gw = await startGatewayProcess({ ...emulatorEnv(emu), DISCOVERY_INTERVAL_MINUTES: '60' });
      const read = (provider: string) => lines(gw.output()).some((l) => l.includes(`${provider}: model list read`));
      for (let i = 0; i < 150 && !(read('DeepInfra') && read('Together')); i++) await new Promise((r) => setTimeout(r, 100));
      expect(await gw.stop()).toBe(0);
      const printed = lines(gw.output());
      expect(printed.filter((l) => l.includes('model list read'))).toEqual(
        expect.arrayContaining([expect.stringMatching(/DeepInfra: model list read, \d+ route\(s\) changed \(\d+ confirmed/)]),
      );
      expect(printed.length).toBeLessThanOrEqual(30);
      expect(printed.join('\n')).not.toContain('unknown → confirmed');
    } finally {
      await emu.close();
    }
  }, 40_000);

  it('with LOG_LEVEL=debug: every route and every model too', async () => {
    const gw = await startGatewayProcess({ LOG_LEVEL: 'debug' });
    expect(await gw.stop()).toBe(0);
    const log = lines(gw.output()).join('\n');
    expect(log).toMatch(/Mapped \{\/v1\/chat\/completions, POST\} route/);
    expect(log).toContain('model gpt-4o-mini: available');
    expect(log).toMatch(/model gpt-oss-120b: not available \(Together: needs an API key \(TOGETHER_API_KEY\)/);
    expect(lines(gw.output()).length).toBeGreaterThan(100);
  }, 30_000);
});
