import { createApp, logStartup } from './bootstrap.ts';
import { installLastResort } from './common/last-resort.ts';
import { ConfigError, loadConfig } from './config/app-config.ts';
import { startupStorageError } from './storage/storage-errors.ts';

try {
  const config = loadConfig();
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  logStartup(app, config, `http://${shown}:${config.port}`);
  installLastResort();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`Configuration error: ${err.message}`);
    process.exit(1);
  }
  // A bad DATA_DIR (a file, read-only, full) or a corrupt database: one line with the path and the fix, not a stack.
  const storage = startupStorageError(err);
  if (storage) {
    console.error(`Storage error: ${storage}`);
    process.exit(1);
  }
  throw err;
}
