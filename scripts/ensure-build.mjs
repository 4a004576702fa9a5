// `npm start` runs this first: build once when there is no build output yet.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../dist/apps/api/src/main.js', import.meta.url))) {
  console.log('No build output yet: running `npm run build` first…');
  const r = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
  process.exit(r.status ?? 1);
}
