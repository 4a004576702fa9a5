import { parseArgs } from 'node:util';
import { startEmulator } from './emulator.ts';
import { PROVIDER_IDS } from './types.ts';

// Usage: node test/emulators/cli.ts --port 9000 [--host 127.0.0.1] [--zero-latency] [--chunks 20] [--chunk-delay-ms 1000] [--record-limit 10000]
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9000' },
    host: { type: 'string', default: '127.0.0.1' },
    'zero-latency': { type: 'boolean', default: false },
    chunks: { type: 'string' },
    'chunk-delay-ms': { type: 'string' },
    'record-limit': { type: 'string' },
  },
});

function numberArg(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0, got "${value}"`);
  return n;
}

const emulator = await startEmulator({
  port: numberArg('port', values.port),
  host: values.host,
  zeroLatency: values['zero-latency'],
  chunks: numberArg('chunks', values.chunks),
  chunkDelayMs: numberArg('chunk-delay-ms', values['chunk-delay-ms']),
  recordLimit: numberArg('record-limit', values['record-limit']),
});

console.log(`provider emulator listening on ${emulator.url} (control API: ${emulator.url}/__emulator)`);
for (const provider of PROVIDER_IDS) console.log(`  ${provider.padEnd(13)} ${emulator.baseUrl(provider)}`);

const shutdown = (): void => {
  void emulator.close().then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
