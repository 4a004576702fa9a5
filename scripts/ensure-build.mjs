// `npm start` runs this first: build once when there is no build output yet.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

if (!existsSync(new URL('../dist/apps/api/src/main.js', import.meta.url))) {
  console.log('No build output yet: running `npm run build` first…');
  const r = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
  process.exit(r.status ?? 1);
}

// `nest build` empties dist/, the admin console's build (dist/admin) included: rebuild just that.
if (!existsSync(new URL('../dist/admin/browser/index.html', import.meta.url))) {
  console.log('No admin console build yet: running `npm run build:admin` first…');
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('./build-admin.mjs', import.meta.url))], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
