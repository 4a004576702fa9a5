import { createApp, logStartup } from './bootstrap.ts';
import { installLastResort } from './common/last-resort.ts';
import { ConfigError, loadConfig } from './config/app-config.ts';

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
  throw err;
}
