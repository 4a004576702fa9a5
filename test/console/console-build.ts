import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
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
 * Builds the console (scripts/build-admin.mjs) when its build is missing or older than its
 * sources. `nest build` (the e2e global setup's, for one) empties dist/, so this is often needed.
 */
export function ensureConsoleBuilt(): void {
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
  if (existsSync(CONSOLE_INDEX) && existsSync(ICONS) && statSync(CONSOLE_INDEX).mtimeMs >= sources) return;
  const r = spawnSync(process.execPath, [join(root, 'scripts/build-admin.mjs')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the admin console failed (node scripts/build-admin.mjs)');
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
