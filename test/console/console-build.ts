import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Where `npm run build` puts the console and the API serves it from (apps/api/src/console/console-static.ts). */
export const CONSOLE_BUILD = join(root, 'dist/admin/browser');
const CONSOLE_INDEX = join(CONSOLE_BUILD, 'index.html');
/** The icon names the build's icon font holds (scripts/icon-font.mjs writes it with the font). */
export const ICONS = join(root, 'apps/admin/generated/icons.json');

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/**
 * One build at a time per checkout: Jest's workers (and a second `npm test` in the same checkout)
 * would otherwise write dist/admin and apps/admin/generated together. A directory, because
 * mkdir is atomic; the builder's pid inside lets a lock whose builder died be taken over.
 */
const LOCK = join(tmpdir(), `g4f-console-build-${createHash('sha256').update(root).digest('hex').slice(0, 16)}.lock`);
/** Longer than any console build on a loaded machine; a wait past it is a bug, not a slow build. */
const LOCK_WAIT_MS = 10 * 60_000;

function holderAlive(): boolean {
  try {
    const pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive but not ours to signal. No pid file yet: the holder is between mkdir and write.
    return (err as NodeJS.ErrnoException).code === 'EPERM' || (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function withBuildLock(build: () => void): void {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let graceUntil = 0;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (!holderAlive()) {
      // A lock without a pid file for more than a moment was left by a process that died in between.
      if (existsSync(join(LOCK, 'pid')) || (graceUntil && Date.now() > graceUntil)) rmSync(LOCK, { recursive: true, force: true });
      else graceUntil ||= Date.now() + 2000;
    }
    if (Date.now() > deadline) throw new Error(`the console build lock ${LOCK} was held for over ${LOCK_WAIT_MS / 60_000} min`);
    // A synchronous wait: callers (copyConsoleBuild) are synchronous.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
  }
  try {
    writeFileSync(join(LOCK, 'pid'), String(process.pid));
    build();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function consoleBuildFresh(): boolean {
  const sources = Math.max(
    ...[
      'apps/admin/src',
      'apps/admin/public',
      'apps/admin/angular.json',
      'apps/admin/tsconfig.json',
      'apps/admin/tsconfig.app.json',
      'libs/contracts/src',
      'scripts/build-admin.mjs',
      'scripts/icon-font.mjs',
      'scripts/precompress.mjs',
    ].map((p) => newest(join(root, p))),
  );
  return existsSync(CONSOLE_INDEX) && existsSync(ICONS) && statSync(CONSOLE_INDEX).mtimeMs >= sources;
}

/**
 * Builds the console (scripts/build-admin.mjs) when its build is missing or older than its
 * sources. `nest build` (the e2e global setup's, for one) empties dist/, so this is often needed.
 * Whoever waited for another's build finds it fresh and builds nothing.
 */
export function ensureConsoleBuilt(): void {
  if (consoleBuildFresh()) return;
  withBuildLock(() => {
    if (consoleBuildFresh()) return;
    const r = spawnSync(process.execPath, [join(root, 'scripts/build-admin.mjs')], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('building the admin console failed (node scripts/build-admin.mjs)');
  });
}

/**
 * A private copy of the console build, for a test's gateway (CONSOLE_DIR): a `nest build` elsewhere
 * (another test run, `nest start --watch`) empties dist/ at any time. Builds first when needed.
 */
export function copyConsoleBuild(to: string): void {
  for (let attempt = 1; ; attempt++) {
    ensureConsoleBuilt();
    try {
      cpSync(CONSOLE_BUILD, to, { recursive: true });
      if (existsSync(join(to, 'index.html'))) return;
    } catch (err) {
      if (attempt >= 2) throw err;
    }
    if (attempt >= 2) throw new Error(`no console build in ${CONSOLE_BUILD}`);
  }
}
