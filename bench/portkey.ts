// Portkey's open-source AI gateway (@portkey-ai/gateway on npm) as a peer row. It is not a
// dependency of this project: the benchmark installs the pinned version on first use into a cache
// folder outside the repository (as scripts/use-node24.sh caches Node.js) and skips the row, saying
// why, when that fails. It is pointed at the same upstream as the other rows with its documented
// per-request headers: x-portkey-provider: openai and x-portkey-custom-host: <base URL>.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, startPolledProcess, type Child } from './processes.ts';
import type { Target } from './client.ts';

export const PORTKEY_PACKAGE = '@portkey-ai/gateway';
export const PORTKEY_VERSION = process.env.BENCH_PORTKEY_VERSION?.trim() || '1.15.2';

const CACHE_DIR = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'g4f-bench', `portkey-${PORTKEY_VERSION}`);
const ENTRY = join(CACHE_DIR, 'node_modules', PORTKEY_PACKAGE, 'build/start-server.js');

export type PortkeyInstall = { entry: string; installed: boolean } | { skipped: string };

/**
 * The cached install, or a fresh one. Install scripts are not run (the package's only one,
 * patch-package, has no patches in the published package). npm_* variables from `npm run` are
 * dropped so the project's own npm settings do not steer this install.
 */
export function ensurePortkey(timeoutMs = 180_000): PortkeyInstall {
  if (process.env.BENCH_PORTKEY === '0') return { skipped: 'BENCH_PORTKEY=0' };
  if (existsSync(ENTRY)) return { entry: ENTRY, installed: false };
  mkdirSync(CACHE_DIR, { recursive: true });
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
  const r = spawnSync(
    'npm',
    ['install', '--prefix', CACHE_DIR, '--no-audit', '--no-fund', '--ignore-scripts', '--no-save', `${PORTKEY_PACKAGE}@${PORTKEY_VERSION}`],
    { cwd: CACHE_DIR, env, encoding: 'utf8', timeout: timeoutMs },
  );
  if (r.error || r.status !== 0 || !existsSync(ENTRY)) {
    const why = r.error?.message ?? `npm exited ${r.status ?? r.signal}`;
    const detail = `${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' ').slice(0, 300);
    return { skipped: `could not install ${PORTKEY_PACKAGE}@${PORTKEY_VERSION} into ${CACHE_DIR} (${why}${detail ? `: ${detail}` : ''})` };
  }
  return { entry: ENTRY, installed: true };
}

/**
 * Portkey's Node server as `npx @portkey-ai/gateway` runs it (plain node, no V8 flags), headless
 * (no log console) and with NODE_ENV=production, bound to loopback by bench/loopback-only.ts.
 */
export function startPortkey(entry: string, port: number, logFile: string): Promise<Child> {
  return startPolledProcess({
    name: 'Portkey gateway',
    args: ['--import', pathToFileURL(join(ROOT, 'bench/loopback-only.ts')).href, entry, `--port=${port}`, '--headless'],
    env: { NODE_ENV: 'production' },
    logFile,
    readyUrl: `http://127.0.0.1:${port}/`,
  });
}

/** A chat completions request through Portkey to an OpenAI-compatible base URL (the one ending in /v1 or its equivalent). */
export function portkeyTarget(portkeyUrl: string, upstreamBaseUrl: string, upstreamKey: string, label: string): Target {
  return {
    label,
    url: `${portkeyUrl}/v1/chat/completions`,
    headers: { authorization: `Bearer ${upstreamKey}`, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstreamBaseUrl },
  };
}
