// Builds the admin console (apps/admin, Angular) into dist/admin/browser, where the API serves it
// from (apps/api/src/console/console-static.ts). `npm run build` runs it after `nest build`, which
// empties dist/ first; `npm start` and the console's browser tests run it when the build is missing.
// Before `ng build`: the icon font cut to the icons the console uses (scripts/icon-font.mjs, which
// fails on an unknown icon); after: brotli and gzip copies of the text files (scripts/precompress.mjs).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { precompress } from './precompress.mjs';

const root = new URL('..', import.meta.url);
const run = (args, cwd = root) => {
  const r = spawnSync(process.execPath, args, { cwd: fileURLToPath(cwd), stdio: 'inherit', env: { ...process.env, NG_CLI_ANALYTICS: 'false' } });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

run([fileURLToPath(new URL('scripts/icon-font.mjs', root))]);
run([fileURLToPath(new URL('node_modules/@angular/cli/bin/ng.js', root)), 'build', '--configuration', 'production'], new URL('apps/admin/', root));
const browser = fileURLToPath(new URL('dist/admin/browser', root));
console.log(`Precompressed ${precompress(browser)} files (brotli, gzip) in ${browser}`);
