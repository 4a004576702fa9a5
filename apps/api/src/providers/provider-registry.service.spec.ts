import { scrubSecrets } from '../common/redact.ts';
import { loadConfig } from '../config/app-config.ts';
import type { ProviderAdapter } from './provider-adapter.ts';
import { ProviderRegistry } from './provider-registry.service.ts';

const adapter: ProviderAdapter = {
  id: 'deepinfra',
  name: 'DeepInfra',
  defaultBaseUrl: 'https://api.deepinfra.example/v1/openai',
  requiresKey: true,
  chat: () => {
    throw new Error('not called');
  },
};

const ENV_KEY = 'di-env-key-Hs83Kq02Lm5X';

function registry(env: Record<string, string> = {}): ProviderRegistry {
  return new ProviderRegistry([adapter], loadConfig({ DEEPINFRA_API_KEY: ENV_KEY, ...env }));
}

describe('ProviderState keys and hosts', () => {
  it('sends the environment’s keys only to the configured host, and console keys only to theirs', () => {
    const sut = registry();
    const p = sut.find('deepinfra')!;
    p.applyOverride({ baseUrl: 'https://api.deepinfra.example/v2' }, []);
    expect(p.keys.view().map((k) => k.masked)).toEqual(['****Lm5X']);

    p.applyOverride({ baseUrl: 'https://mirror.example/v1/openai' }, [
      { id: 'key-a', value: 'mirror-key-0000000001', source: 'console', origin: 'https://mirror.example' },
      { id: 'key-b', value: 'other-key-00000000002', source: 'console', origin: 'https://other.example' },
    ]);
    expect(p.keys.view().map((k) => k.id)).toEqual(['key-a']);

    p.applyOverride({ baseUrl: 'https://mirror.example/v1/openai' }, []);
    expect(p.status()).toEqual({
      status: 'unconfigured',
      reason: 'needs an API key for https://mirror.example: the DEEPINFRA_API_KEY keys are only sent to https://api.deepinfra.example',
    });

    p.applyOverride(undefined, []);
    expect(p.keys.size).toBe(1);
    expect(p.status().status).toBe('available');
    sut.onModuleDestroy();
  });

  it('shows base URLs and proxies with their credentials masked', () => {
    const sut = registry({ DEEPINFRA_BASE_URL: 'https://user:b4se-pass-9@api.deepinfra.example/v1', DEEPINFRA_PROXY: 'http://px:pr0xy-pass-7@127.0.0.1:3128' });
    const view = sut.find('deepinfra')!.view();
    expect(view.baseUrl).toBe('https://user:****@api.deepinfra.example/v1');
    expect(view.proxy).toBe('http://px:****@127.0.0.1:3128');
    sut.onModuleDestroy();
  });
});

describe('ProviderRegistry secrets', () => {
  it('registers keys, URL and proxy credentials (also HTTPS_PROXY’s) until it is destroyed', () => {
    const before = process.env.HTTPS_PROXY;
    process.env.HTTPS_PROXY = 'http://corp:env-proxy-pass-31@proxy.corp:8080';
    try {
      const sut = registry({ DEEPINFRA_PROXY: 'http://px:pr0xy-pass-7@127.0.0.1:3128', API_KEY: 'client-key-Zr81Lp0q' });
      const text = `${ENV_KEY} pr0xy-pass-7 env-proxy-pass-31 client-key-Zr81Lp0q`;
      expect(scrubSecrets(text)).toBe('****Lm5X **** ****s-31 ****Lp0q');
      sut.onModuleDestroy();
      expect(scrubSecrets(text)).toBe(text);
    } finally {
      if (before === undefined) delete process.env.HTTPS_PROXY;
      else process.env.HTTPS_PROXY = before;
    }
  });
});
