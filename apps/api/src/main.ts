import { createApp, logStartup } from './bootstrap.ts';
import { ConfigError, loadConfig } from './config/app-config.ts';
import { countTextTokens } from './usage/token-counter.ts';

try {
  const config = loadConfig();
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  logStartup(app, config, `http://${shown}:${config.port}`);
  // Load the tokenizer's rank table now (~150 ms), not during the first request that needs it.
  setImmediate(() => countTextTokens('warm up'));
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`Configuration error: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
