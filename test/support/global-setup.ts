import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/**
 * Tests that run the gateway as a real process (SIGTERM, kill -9, several replicas) need the
 * built API; build it once per run when the sources are newer than the build.
 */
export default function globalSetup(): void {
  const main = join(root, 'dist/apps/api/src/main.js');
  const sources = Math.max(newest(join(root, 'apps/api/src')), newest(join(root, 'libs')), statSync(join(root, 'catalog/models.json')).mtimeMs);
  if (existsSync(main) && statSync(main).mtimeMs >= sources) return;
  const r = spawnSync('npx', ['nest', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the API for process tests failed');
}
