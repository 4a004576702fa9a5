/**
 * "Adding a provider is one folder and one line": a throwaway provider (test/e2e/fixtures/echo-lab,
 * a declaration and an adapter like every built-in's) is added to the built-in list, and nothing
 * else learns its name. Config reads its variables (key alias and extra setting included), the
 * registry serves it, discovery compares its ids by its declared rule, and /v1 answers through it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../apps/api/src/app.module.ts';
import { loadConfig } from '../../apps/api/src/config/app-config.ts';
import { DiscoveryService } from '../../apps/api/src/models/discovery.service.ts';
import { BUILTIN_PROVIDERS } from '../../apps/api/src/providers/builtin-providers.ts';
import { PROVIDER_DECLARATIONS, ProviderRegistry } from '../../apps/api/src/providers/provider-registry.service.ts';
import { loadAdapter } from '../../apps/api/src/providers/providers.module.ts';
import { ECHO_LAB } from './fixtures/echo-lab/echo-lab.provider.ts';
import { postJson } from '../support/gateway.ts';

const PROVIDERS = [...BUILTIN_PROVIDERS, ECHO_LAB];

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body?: { model?: string };
}

/** The fixture provider's upstream: OpenAI's format under /regions/<region>/, one model listed. */
function startUpstream(seen: Seen[]): Promise<Server> {
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as Seen['body']) : undefined;
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && req.url === '/regions/eu-1/models') return res.end(JSON.stringify({ data: [{ id: 'Lab/Echo-1' }] }));
      if (req.method === 'POST' && req.url === '/regions/eu-1/chat/completions') {
        return res.end(
          JSON.stringify({
            id: 'cmpl-echo',
            object: 'chat.completion',
            created: 1,
            model: body?.model,
            choices: [{ index: 0, message: { role: 'assistant', content: 'echo' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
          }),
        );
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function catalogFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'g4f-echo-')), 'catalog.json');
  const model = (id: string, upstream: string) => ({
    id,
    label: id,
    owned_by: 'lab',
    category: 'chat',
    routes: [{ provider: 'EchoLab', upstream_model: upstream }],
  });
  writeFileSync(path, JSON.stringify({ models: [model('echo-chat', 'lab/echo-1:fast'), model('echo-gone', 'lab/echo-2:fast')] }));
  return path;
}

/** The code (comments dropped) of the files that read the declarations instead of naming providers. */
const READERS = [
  'apps/api/src/config/app-config.ts',
  'apps/api/src/providers/providers.module.ts',
  'apps/api/src/providers/provider-registry.service.ts',
  'apps/api/src/models/discovery-match.ts',
  'apps/api/src/models/discovery.service.ts',
];
const codeOf = (path: string) =>
  readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|\s)\/\/.*$/gm, '');

describe('a provider added as one folder and one line', () => {
  const seen: Seen[] = [];
  let upstream: Server;
  let env: Record<string, string>;

  beforeAll(async () => {
    upstream = await startUpstream(seen);
    env = {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'g4f-data-')),
      ADMIN_PASSWORD: 'admin-test-password',
      HEALTH_CHECK_INTERVAL: '0',
      DISCOVERY_INTERVAL_MINUTES: '0',
      CATALOG_FILE: catalogFile(),
      ECHO_LAB_BASE_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`,
      ECHO_LAB_API_KEY: 'echo-key-0000000001',
      ECHO_LAB_TOKEN: 'echo-key-0000000002,echo-key-0000000001',
      ECHO_LAB_REGION: ' eu-1 ',
      ECHO_LAB_PRIORITY: '1',
      // Only the fixture can answer: the built-ins have no keys, and Pollinations (keyless) is off.
      POLLINATIONS_ENABLED: 'false',
    };
  });

  afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

  it.each(READERS)('%s names no provider: it reads their declarations', (path) => {
    const code = codeOf(path).toLowerCase();
    for (const p of BUILTIN_PROVIDERS)
      for (const name of [p.id, p.envPrefix.toLowerCase()]) expect({ path, name, named: code.includes(name) }).toEqual({ path, name, named: false });
  });

  it('config reads its <P>_* variables, its key alias and its extra setting from the declaration', () => {
    expect(loadConfig(env, PROVIDERS).providers.echolab).toEqual({
      enabled: true,
      baseUrl: env.ECHO_LAB_BASE_URL!.replace(/\/$/, ''),
      apiKeys: ['echo-key-0000000001', 'echo-key-0000000002'],
      proxy: undefined,
      extra: { region: 'eu-1' },
      priority: 1,
    });
    // Not in the list, not read: the list is what config goes by.
    expect(loadConfig(env).providers.echolab).toBeUndefined();
  });

  it('the registry says which declared variable is missing', async () => {
    const { ECHO_LAB_REGION: _region, ...noRegion } = env;
    const withoutRegion = new ProviderRegistry([await loadAdapter(ECHO_LAB)], loadConfig(noRegion, PROVIDERS));
    expect(withoutRegion.find('EchoLab')!.status()).toEqual({ status: 'unconfigured', reason: 'needs ECHO_LAB_REGION' });
    const { ECHO_LAB_API_KEY: _key, ECHO_LAB_TOKEN: _token, ...noKeys } = env;
    const withoutKeys = new ProviderRegistry([await loadAdapter(ECHO_LAB)], loadConfig(noKeys, PROVIDERS));
    expect(withoutKeys.find('echolab')!.status()).toEqual({ status: 'unconfigured', reason: 'needs an API key (ECHO_LAB_TOKEN)' });
  });

  describe('in the running application', () => {
    let app: INestApplication;
    let url: string;

    beforeAll(async () => {
      // The one line: the list the providers module loads its adapters from, with the fixture added.
      const moduleRef = await Test.createTestingModule({ imports: [AppModule.register(loadConfig(env, PROVIDERS))] })
        .overrideProvider(PROVIDER_DECLARATIONS)
        .useValue(PROVIDERS)
        .compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.listen(0, '127.0.0.1');
      url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    });

    afterAll(() => app?.close());

    it('the registry serves it beside the built-ins', () => {
      const view = app.get(ProviderRegistry).find('EchoLab')!.view();
      expect(view).toMatchObject({ id: 'echolab', name: 'EchoLab', status: 'available', requiredExtra: ['region'], extra: { region: 'eu-1' }, priority: 1 });
      expect(view.keys).toHaveLength(2);
      expect(app.get(ProviderRegistry).find('DeepInfra')).toBeDefined();
    });

    it('discovery compares its ids by its declared rule (a `:policy` suffix is not part of the id)', async () => {
      const discovery = app.get(DiscoveryService);
      await discovery.refresh('EchoLab');
      expect(seen.find((s) => s.url === '/regions/eu-1/models')).toBeDefined();
      expect(discovery.model('echo-chat').routes).toEqual([expect.objectContaining({ provider: 'EchoLab', state: 'confirmed', routable: true })]);
      expect(discovery.model('echo-gone').routes).toEqual([expect.objectContaining({ provider: 'EchoLab', state: 'missing', routable: false })]);
    });

    it('answers /v1/chat/completions through it, with its key and its region', async () => {
      seen.length = 0;
      const res = await postJson(`${url}/v1/chat/completions`, { model: 'echo-chat', messages: [{ role: 'user', content: 'hi' }] });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-pool-provider')).toBe('EchoLab');
      expect(res.headers.get('x-pool-upstream-model')).toBe('lab/echo-1:fast');
      expect(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('echo');
      expect(seen).toEqual([
        {
          method: 'POST',
          url: '/regions/eu-1/chat/completions',
          authorization: expect.stringMatching(/^Bearer echo-key-000000000[12]$/),
          body: expect.objectContaining({ model: 'lab/echo-1:fast' }),
        },
      ]);
    });
  });
});
