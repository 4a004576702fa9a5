// Builds the admin console (apps/admin, Angular) into dist/admin/browser, where the API serves it
// from (apps/api/src/console/console-static.ts). `npm run build` runs it after `nest build`, which
// empties dist/ first; `npm start` and the console's browser tests run it when the build is missing.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
const ng = fileURLToPath(new URL('node_modules/@angular/cli/bin/ng.js', root));
const r = spawnSync(process.execPath, [ng, 'build', '--configuration', 'production'], {
  cwd: fileURLToPath(new URL('apps/admin/', root)),
  stdio: 'inherit',
  env: { ...process.env, NG_CLI_ANALYTICS: 'false' },
});
process.exit(r.status ?? 1);
