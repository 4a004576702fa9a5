import { createApp, logStartup } from './bootstrap.ts';
import { AdminAuthService } from './auth/admin-auth.service.ts';
import { installLastResort } from './common/last-resort.ts';
import { bindErrorMessage, checkPortFree } from './common/port-check.ts';
import { ConfigError, loadConfig, type AppConfig } from './config/app-config.ts';
import { startupStorageError } from './storage/storage-errors.ts';

/** A port that cannot be bound (taken, privileged, no such address): one line naming the fix, exit 1. */
function exitOnBindError(err: unknown, config: AppConfig): void {
  const message = bindErrorMessage(err, config.port, config.host);
  if (!message) return;
  console.error(message);
  process.exit(1);
}

try {
  const config = loadConfig();
  // Before anything is built or stored: a busy port must not leave a generated admin password
  // behind that was printed in the middle of an error.
  await checkPortFree(config.port, config.host).catch((err: unknown) => {
    exitOnBindError(err, config);
    throw err;
  });
  const app = await createApp(config);
  try {
    await app.listen(config.port, config.host);
  } catch (err) {
    // Taken between the check and now: undo what this start stored, then say so as above.
    if (bindErrorMessage(err, config.port, config.host)) await app.get(AdminAuthService).forgetGeneratedPassword();
    exitOnBindError(err, config);
    throw err;
  }
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
