import { resolve } from 'node:path';
import { BUILTIN_PROVIDERS } from '../providers/builtin-providers.ts';
import { CHECK_DEADLINE_MS, ConfigError, checkDeadlineMs, loadConfig, parseSize, type AppConfig, type ProviderEnv } from './app-config.ts';

const MB = 1024 * 1024;
/** Each built-in provider's id and the `<P>` its variables start with, from its declaration. */
const BUILTIN_PROVIDER_ENV = Object.fromEntries(BUILTIN_PROVIDERS.map((p) => [p.id, p.envPrefix]));
const PROVIDER_IDS = Object.keys(BUILTIN_PROVIDER_ENV);

/** The ConfigError loadConfig throws for `env` (fails the test when it does not throw one). */
function configError(env: Record<string, string | undefined>): ConfigError {
  let thrown: unknown;
  try {
    loadConfig(env);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

describe('loadConfig', () => {
  describe('defaults', () => {
    let config: AppConfig;
    beforeAll(() => {
      config = loadConfig({});
    });

    it('server, auth, body limit and routing', () => {
      expect(config.port).toBe(8080);
      expect(config.host).toBe('0.0.0.0');
      expect(config.apiKeys).toEqual([]);
      expect(config.bodyLimitBytes).toBe(10 * MB);
      expect(config.routingStrategy).toBe('random');
    });

    it('timeouts and breaker', () => {
      expect(config.timeouts).toEqual({ connectMs: 10_000, firstByteMs: 60_000, idleMs: 120_000, totalMs: 300_000, firstTokenMs: 60_000, streamMs: 900_000 });
      expect(config.breaker).toEqual({ failureThreshold: 3, baseCooldownMs: 30_000, maxCooldownMs: 60_000, authCooldownMs: 600_000 });
      expect(config.failover).toEqual({ onContentPolicy: false, retryAfterMaxMs: 3000, sameRoute: false, retryBudget: 2 });
    });

    it('limits and access', () => {
      expect(config.limits).toEqual({
        upstreamBodyBytes: 32 * MB,
        upstreamDecodedBytes: 64 * MB,
        sseLineBytes: MB,
        sseEventBytes: 4 * MB,
        clientStallMs: 30_000,
        mediaFetchBytes: 20 * MB,
      });
      expect(config.access).toEqual({ trustProxy: false, corsOrigins: undefined, allowOpenApi: false, mediaFetchAllowHosts: [] });
      expect(config.stats.logMaxEntries).toBe(100_000);
      expect(config.stats.maxRows).toBe(500_000);
    });

    it('files and data dir', () => {
      expect(config.providersFile).toBeUndefined();
      expect(config.catalogFile).toBeUndefined();
      expect(config.dataDir).toBe(resolve('./data'));
    });

    it('every built-in provider is present, enabled and without keys', () => {
      expect(Object.keys(config.providers).sort()).toEqual(['cloudflare', 'deepinfra', 'huggingface', 'pollinations', 'together']);
      for (const id of PROVIDER_IDS) {
        const expected: ProviderEnv = { enabled: true, baseUrl: undefined, apiKeys: [], proxy: undefined, extra: {}, priority: undefined };
        expect(config.providers[id]).toEqual(expected);
      }
    });

    it('reads process.env when called without an argument', () => {
      const saved = process.env.BREAKER_FAILURE_THRESHOLD;
      process.env.BREAKER_FAILURE_THRESHOLD = '7';
      try {
        expect(loadConfig().breaker.failureThreshold).toBe(7);
      } finally {
        if (saved === undefined) delete process.env.BREAKER_FAILURE_THRESHOLD;
        else process.env.BREAKER_FAILURE_THRESHOLD = saved;
      }
    });
  });

  describe('every variable is parsed', () => {
    it('server-wide variables', () => {
      const config = loadConfig({
        PORT: ' 9090 ',
        HOST: ' 127.0.0.1 ',
        API_KEY: 'abc',
        BODY_LIMIT: '512kb',
        ROUTING_STRATEGY: ' Priority ',
        UPSTREAM_CONNECT_TIMEOUT_MS: '1',
        UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '2',
        UPSTREAM_IDLE_TIMEOUT_MS: '3',
        UPSTREAM_TIMEOUT_MS: '4',
        UPSTREAM_FIRST_TOKEN_TIMEOUT_MS: '9',
        UPSTREAM_STREAM_TIMEOUT_MS: '10',
        UPSTREAM_MAX_BODY: '1mb',
        UPSTREAM_MAX_DECODED_BODY: '2mb',
        SSE_MAX_LINE: '3kb',
        SSE_MAX_EVENT: '4kb',
        CLIENT_STALL_TIMEOUT_MS: '11',
        MEDIA_FETCH_MAX_BYTES: '5mb',
        TRUST_PROXY: 'loopback, 10.0.0.0/8',
        CORS_ORIGINS: 'https://chat.example.com, http://localhost:3000',
        ALLOW_OPEN_API: 'true',
        MEDIA_FETCH_ALLOW_HOSTS: '127.0.0.1, images.internal, 10.1.0.0/16',
        LOG_MAX_ENTRIES: '5000',
        STATS_MAX_ROWS: '20000',
        BREAKER_FAILURE_THRESHOLD: '5',
        BREAKER_COOLDOWN_MS: '6',
        BREAKER_MAX_COOLDOWN_MS: '7',
        KEY_AUTH_COOLDOWN_MS: '8',
        FAILOVER_ON_CONTENT_POLICY: 'true',
        RETRY_AFTER_MAX_MS: '0',
        RETRY_SAME_ROUTE: 'true',
        RETRY_BUDGET: '5',
        PROVIDERS_FILE: ' /etc/g4f/providers.yaml ',
        CATALOG_FILE: ' ./my-catalog.json ',
        DATA_DIR: ' /var/lib/g4f ',
      });
      expect(config.port).toBe(9090);
      expect(config.host).toBe('127.0.0.1');
      expect(config.apiKeys).toEqual(['abc']);
      expect(config.bodyLimitBytes).toBe(512 * 1024);
      expect(config.routingStrategy).toBe('priority');
      expect(config.timeouts).toEqual({ connectMs: 1, firstByteMs: 2, idleMs: 3, totalMs: 4, firstTokenMs: 9, streamMs: 10 });
      expect(config.limits).toEqual({
        upstreamBodyBytes: MB,
        upstreamDecodedBytes: 2 * MB,
        sseLineBytes: 3 * 1024,
        sseEventBytes: 4 * 1024,
        clientStallMs: 11,
        mediaFetchBytes: 5 * MB,
      });
      expect(config.access).toEqual({
        trustProxy: ['loopback', '10.0.0.0/8'],
        corsOrigins: ['https://chat.example.com', 'http://localhost:3000'],
        allowOpenApi: true,
        mediaFetchAllowHosts: ['127.0.0.1', 'images.internal', '10.1.0.0/16'],
      });
      expect(config.stats.logMaxEntries).toBe(5000);
      expect(config.stats.maxRows).toBe(20_000);
      expect(config.breaker).toEqual({ failureThreshold: 5, baseCooldownMs: 6, maxCooldownMs: 7, authCooldownMs: 8 });
      expect(config.failover).toEqual({ onContentPolicy: true, retryAfterMaxMs: 0, sameRoute: true, retryBudget: 5 });
      expect(config.providersFile).toBe('/etc/g4f/providers.yaml');
      expect(config.catalogFile).toBe('./my-catalog.json');
      expect(config.dataDir).toBe('/var/lib/g4f');
    });

    it('a relative DATA_DIR is resolved to an absolute path', () => {
      expect(loadConfig({ DATA_DIR: 'state' }).dataDir).toBe(resolve('state'));
    });

    it('PORT=0 (any free port) is allowed', () => {
      expect(loadConfig({ PORT: '0' }).port).toBe(0);
    });

    it.each(['random', 'priority', 'latency', 'LATENCY'])('ROUTING_STRATEGY=%s', (value) => {
      expect(loadConfig({ ROUTING_STRATEGY: value }).routingStrategy).toBe(value.toLowerCase());
    });

    it.each(Object.entries(BUILTIN_PROVIDER_ENV))('%s reads <%s>_* variables', (id, prefix) => {
      const config = loadConfig({
        [`${prefix}_ENABLED`]: 'false',
        [`${prefix}_BASE_URL`]: ` http://127.0.0.1:9000/${id}/v1/// `,
        [`${prefix}_API_KEY`]: `${id}-a,${id}-b`,
        [`${prefix}_PROXY`]: 'http://proxy.local:3128/',
        [`${prefix}_PRIORITY`]: '2',
      });
      const p = config.providers[id]!;
      expect(p.enabled).toBe(false);
      expect(p.baseUrl).toBe(`http://127.0.0.1:9000/${id}/v1`);
      expect(p.apiKeys).toEqual([`${id}-a`, `${id}-b`]);
      expect(p.proxy).toBe('http://proxy.local:3128');
      expect(p.priority).toBe(2);
      // Other providers are untouched.
      for (const other of PROVIDER_IDS.filter((o) => o !== id)) {
        expect(config.providers[other]!.enabled).toBe(true);
        expect(config.providers[other]!.apiKeys).toEqual([]);
        expect(config.providers[other]!.baseUrl).toBeUndefined();
        expect(config.providers[other]!.priority).toBeUndefined();
      }
    });

    it('<P>_PRIORITY=0 is kept as 0 (not treated as unset)', () => {
      expect(loadConfig({ TOGETHER_PRIORITY: '0' }).providers.together!.priority).toBe(0);
    });

    it.each([
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['yes', true],
      [' on ', true],
      ['false', false],
      ['False', false],
      ['0', false],
      ['no', false],
      ['OFF', false],
    ])('<P>_ENABLED=%s → %s', (raw, expected) => {
      expect(loadConfig({ HUGGINGFACE_ENABLED: raw }).providers.huggingface!.enabled).toBe(expected);
    });
  });

  describe('key pools', () => {
    it('<P>_API_KEY is split on commas, trimmed, emptied entries dropped, duplicates removed', () => {
      const config = loadConfig({ DEEPINFRA_API_KEY: ' a , b,,a ,  c , b ,' });
      expect(config.providers.deepinfra!.apiKeys).toEqual(['a', 'b', 'c']);
    });

    it('a blank <P>_API_KEY gives an empty pool', () => {
      expect(loadConfig({ TOGETHER_API_KEY: ' , , ' }).providers.together!.apiKeys).toEqual([]);
    });

    it('API_KEY is split on commas and trimmed, empty entries dropped', () => {
      expect(loadConfig({ API_KEY: 'k1, k2' }).apiKeys).toEqual(['k1', 'k2']);
      expect(loadConfig({ API_KEY: '  k1 ,,  k2  , ' }).apiKeys).toEqual(['k1', 'k2']);
      expect(loadConfig({ API_KEY: ' , ' }).apiKeys).toEqual([]);
    });

    it('API_KEY keeps each distinct key once', () => {
      expect(new Set(loadConfig({ API_KEY: 'k1,k2,k1' }).apiKeys)).toEqual(new Set(['k1', 'k2']));
    });
  });

  describe('Cloudflare', () => {
    it('CLOUDFLARE_API_TOKEN alone fills the key pool', () => {
      expect(loadConfig({ CLOUDFLARE_API_TOKEN: ' t1 , t2 ' }).providers.cloudflare!.apiKeys).toEqual(['t1', 't2']);
    });

    it('CLOUDFLARE_API_TOKEN is merged into CLOUDFLARE_API_KEY, keys first, without duplicates', () => {
      const config = loadConfig({ CLOUDFLARE_API_KEY: 'k1, shared, k1', CLOUDFLARE_API_TOKEN: 'shared, t1, t1' });
      expect(config.providers.cloudflare!.apiKeys).toEqual(['k1', 'shared', 't1']);
    });

    it('CLOUDFLARE_API_TOKEN does not leak into other providers', () => {
      const config = loadConfig({ CLOUDFLARE_API_TOKEN: 't1' });
      for (const id of PROVIDER_IDS.filter((i) => i !== 'cloudflare')) expect(config.providers[id]!.apiKeys).toEqual([]);
    });

    it('CLOUDFLARE_ACCOUNT_ID is trimmed into extra.accountId', () => {
      const config = loadConfig({ CLOUDFLARE_ACCOUNT_ID: '  acct-123  ' });
      expect(config.providers.cloudflare!.extra).toEqual({ accountId: 'acct-123' });
      for (const id of PROVIDER_IDS.filter((i) => i !== 'cloudflare')) expect(config.providers[id]!.extra).toEqual({});
    });

    it('a blank CLOUDFLARE_ACCOUNT_ID is ignored', () => {
      expect(loadConfig({ CLOUDFLARE_ACCOUNT_ID: '   ' }).providers.cloudflare!.extra).toEqual({});
    });
  });

  describe('blank values mean "use the default", like an unset variable', () => {
    // BODY_LIMIT and <P>_PRIORITY have their own tests below.
    it.each(['', '   '])('every other variable set to %j', (blank) => {
      const env: Record<string, string> = {
        PORT: blank,
        HOST: blank,
        API_KEY: blank,
        ROUTING_STRATEGY: blank,
        UPSTREAM_CONNECT_TIMEOUT_MS: blank,
        UPSTREAM_FIRST_BYTE_TIMEOUT_MS: blank,
        UPSTREAM_IDLE_TIMEOUT_MS: blank,
        UPSTREAM_TIMEOUT_MS: blank,
        UPSTREAM_FIRST_TOKEN_TIMEOUT_MS: blank,
        UPSTREAM_STREAM_TIMEOUT_MS: blank,
        UPSTREAM_MAX_BODY: blank,
        UPSTREAM_MAX_DECODED_BODY: blank,
        SSE_MAX_LINE: blank,
        SSE_MAX_EVENT: blank,
        CLIENT_STALL_TIMEOUT_MS: blank,
        MEDIA_FETCH_MAX_BYTES: blank,
        TRUST_PROXY: blank,
        CORS_ORIGINS: blank,
        ALLOW_OPEN_API: blank,
        MEDIA_FETCH_ALLOW_HOSTS: blank,
        LOG_MAX_ENTRIES: blank,
        STATS_MAX_ROWS: blank,
        BREAKER_FAILURE_THRESHOLD: blank,
        BREAKER_COOLDOWN_MS: blank,
        BREAKER_MAX_COOLDOWN_MS: blank,
        KEY_AUTH_COOLDOWN_MS: blank,
        PROVIDERS_FILE: blank,
        CATALOG_FILE: blank,
        DATA_DIR: blank,
        CLOUDFLARE_API_TOKEN: blank,
        CLOUDFLARE_ACCOUNT_ID: blank,
      };
      for (const prefix of Object.values(BUILTIN_PROVIDER_ENV)) {
        for (const suffix of ['ENABLED', 'BASE_URL', 'API_KEY', 'PROXY']) env[`${prefix}_${suffix}`] = blank;
      }
      const config = loadConfig(env);
      expect(config).toEqual(loadConfig({}));
    });

    it.each(['', '   '])('BODY_LIMIT=%j → the 10mb default', (blank) => {
      expect(loadConfig({ BODY_LIMIT: blank }).bodyLimitBytes).toBe(10 * MB);
    });

    it.each(['', '   '])('<P>_PRIORITY=%j → no priority', (blank) => {
      expect(loadConfig({ DEEPINFRA_PRIORITY: blank }).providers.deepinfra!.priority).toBeUndefined();
    });
  });

  describe('bad values → ConfigError naming the variable', () => {
    it.each<[string, string]>([
      ['PORT', 'abc'],
      ['PORT', '-1'],
      ['PORT', '80.5'],
      ['PORT', '65536'],
      ['UPSTREAM_CONNECT_TIMEOUT_MS', '0'],
      ['UPSTREAM_FIRST_BYTE_TIMEOUT_MS', 'soon'],
      ['UPSTREAM_IDLE_TIMEOUT_MS', '-5'],
      ['UPSTREAM_TIMEOUT_MS', '1e'],
      ['UPSTREAM_FIRST_TOKEN_TIMEOUT_MS', '0'],
      ['UPSTREAM_STREAM_TIMEOUT_MS', 'long'],
      ['UPSTREAM_MAX_BODY', 'big'],
      ['SSE_MAX_LINE', '-1kb'],
      ['CLIENT_STALL_TIMEOUT_MS', '0'],
      ['TRUST_PROXY', 'my proxy'],
      ['ALLOW_OPEN_API', 'sure'],
      ['LOG_MAX_ENTRIES', '10'],
      ['STATS_MAX_ROWS', '100'],
      ['STATS_MAX_ROWS', 'many'],
      ['BREAKER_FAILURE_THRESHOLD', '0'],
      ['BREAKER_COOLDOWN_MS', '1.5'],
      ['BREAKER_MAX_COOLDOWN_MS', 'ten'],
      ['KEY_AUTH_COOLDOWN_MS', '0'],
      ['FAILOVER_ON_CONTENT_POLICY', 'yes please'],
      ['RETRY_AFTER_MAX_MS', '-1'],
      ['RETRY_AFTER_MAX_MS', '120000'],
      ['RETRY_SAME_ROUTE', 'often'],
      ['RETRY_BUDGET', '11'],
      ['ROUTING_STRATEGY', 'fastest'],
      ['BODY_LIMIT', '10 megabytes'],
      ['BODY_LIMIT', '-1mb'],
      ['BODY_LIMIT', '5tb'],
      ['POLLINATIONS_ENABLED', 'maybe'],
      ['DEEPINFRA_ENABLED', '2'],
      ['TOGETHER_BASE_URL', 'not a url'],
      ['HUGGINGFACE_BASE_URL', 'api.example.com/v1'],
      ['DEEPINFRA_BASE_URL', 'localhost:9000/v1'],
      ['POLLINATIONS_BASE_URL', 'ftp://files.example.com'],
      ['CLOUDFLARE_PROXY', 'not a proxy'],
      ['TOGETHER_PROXY', 'localhost:3128'],
      ['DEEPINFRA_PRIORITY', 'high'],
      ['TOGETHER_PRIORITY', '-1'],
      ['POLLINATIONS_PRIORITY', '1.5'],
    ])('%s=%j', (name, value) => {
      const err = configError({ [name]: value });
      expect(err.name).toBe('ConfigError');
      expect(err.message).toContain(name);
      expect(err.message).toContain(value.trim());
    });
  });
});

describe('parseSize', () => {
  it.each<[string, number]>([
    ['10mb', 10 * MB],
    ['512kb', 512 * 1024],
    ['1048576', 1_048_576],
    ['100b', 100],
    ['0', 0],
    ['1gb', 1024 ** 3],
    ['1.5mb', Math.floor(1.5 * MB)],
    ['0.5kb', 512],
    ['10MB', 10 * MB],
    ['2Kb', 2048],
    [' 3 kb ', 3072],
  ])('%j → %d bytes', (raw, bytes) => {
    expect(parseSize(raw)).toBe(bytes);
  });

  it.each(['', '   ', 'abc', 'mb', '-1', '-1mb', '10 megabytes', '1e3', '.5mb', '10tb', '10m', '1,000'])('%j → ConfigError', (raw) => {
    expect(() => parseSize(raw)).toThrow(ConfigError);
  });

  it('names the variable in the error (default name "size")', () => {
    expect(() => parseSize('huge', 'BODY_LIMIT')).toThrow(/BODY_LIMIT.*"huge"/);
    expect(() => parseSize('huge')).toThrow(/^size must be a size like 10mb, got "huge"$/);
  });
});

describe('image URLs', () => {
  it('IMAGE_URL_TTL_SECONDS defaults to an hour; PUBLIC_BASE_URL is unset', () => {
    const config = loadConfig({});
    expect(config.imageUrlTtlSeconds).toBe(3600);
    expect(config.publicBaseUrl).toBeUndefined();
  });

  it('reads both, and refuses bad values naming the variable', () => {
    const config = loadConfig({ IMAGE_URL_TTL_SECONDS: '60', PUBLIC_BASE_URL: 'https://ai.example.com/pool/' });
    expect(config.imageUrlTtlSeconds).toBe(60);
    expect(config.publicBaseUrl).toBe('https://ai.example.com/pool');
    expect(() => loadConfig({ IMAGE_URL_TTL_SECONDS: '0' })).toThrow(/IMAGE_URL_TTL_SECONDS/);
    expect(() => loadConfig({ PUBLIC_BASE_URL: 'ftp://x' })).toThrow(/PUBLIC_BASE_URL/);
  });
});

describe('MEDIA_FETCH_ALLOW_HOSTS', () => {
  it('takes host names, IPs and CIDRs, and refuses a malformed CIDR at start', () => {
    expect(loadConfig({ MEDIA_FETCH_ALLOW_HOSTS: 'cdn.internal, 127.0.0.1, 10.0.0.0/8, fd00::/8, [::1]' }).access.mediaFetchAllowHosts).toEqual([
      'cdn.internal',
      '127.0.0.1',
      '10.0.0.0/8',
      'fd00::/8',
      '[::1]',
    ]);
    for (const bad of ['10.0.0.0/33', 'cdn.internal/8', '10.0.0.0/8/1', '::1/129', '10.0.0.0/x']) {
      expect(() => loadConfig({ MEDIA_FETCH_ALLOW_HOSTS: bad })).toThrow(/MEDIA_FETCH_ALLOW_HOSTS/);
    }
  });

  it('refuses an entry with a port at start, naming the entry and what to write instead (a port would never match)', () => {
    for (const [entry, host] of [
      ['cdn.internal:8080', 'cdn.internal'],
      ['127.0.0.1:9000', '127.0.0.1'],
      ['[::1]:8080', '[::1]'],
    ] as const) {
      const err = configError({ MEDIA_FETCH_ALLOW_HOSTS: `images.internal, ${entry}` });
      expect(err.message).toContain(`"${entry}" has a port`);
      expect(err.message).toContain(`write "${host}" instead`);
    }
    // An IPv6 address is not a host with a port.
    expect(loadConfig({ MEDIA_FETCH_ALLOW_HOSTS: '::1, fe80::1, ::ffff:127.0.0.1' }).access.mediaFetchAllowHosts).toEqual([
      '::1',
      'fe80::1',
      '::ffff:127.0.0.1',
    ]);
  });

  it('refuses URLs and other things that are not a host', () => {
    expect(configError({ MEDIA_FETCH_ALLOW_HOSTS: 'http://cdn.internal' }).message).toContain('"http://cdn.internal" is a URL');
    for (const bad of ['cdn internal', 'cdn..internal', 'user@cdn.internal', '[cdn.internal]', `${'a'.repeat(64)}.internal`]) {
      expect(configError({ MEDIA_FETCH_ALLOW_HOSTS: bad }).message).toContain(`"${bad}" not a host name, IP or CIDR`);
    }
    expect(loadConfig({ MEDIA_FETCH_ALLOW_HOSTS: 'minio, s3.internal., my_bucket.local' }).access.mediaFetchAllowHosts).toEqual([
      'minio',
      's3.internal.',
      'my_bucket.local',
    ]);
  });
});

describe('checkDeadlineMs', () => {
  it('is 15 s for a health check or model-list fetch, or UPSTREAM_TIMEOUT_MS when that is shorter', () => {
    expect(CHECK_DEADLINE_MS).toBe(15_000);
    expect(checkDeadlineMs(loadConfig({}))).toBe(15_000);
    expect(checkDeadlineMs(loadConfig({ UPSTREAM_TIMEOUT_MS: '4000' }))).toBe(4000);
    expect(checkDeadlineMs(loadConfig({ UPSTREAM_TIMEOUT_MS: '600000' }))).toBe(15_000);
  });
});

describe('URLs in startup errors', () => {
  it.each([
    [
      'a proxy with credentials but not http(s)',
      'TOGETHER_PROXY',
      'socks5://proxyuser:hunter2-secret@proxy.local:1080',
      'socks5://proxyuser:****@proxy.local:1080',
    ],
    ['a token as the user name', 'DEEPINFRA_BASE_URL', 'ftp://tok3n-abcdef123456@files.example.com', 'ftp://****@files.example.com'],
    ['no scheme', 'CLOUDFLARE_PROXY', 'proxyuser:hunter2-secret@proxy.local:3128', '****@proxy.local:3128'],
    ['a "/" in the password', 'HUGGINGFACE_PROXY', 'http://proxyuser:hun/ter2-secret@proxy.local:3128', '****@proxy.local:3128'],
    ['REDIS_URL', 'REDIS_URL', 'http://:hunter2-secret@redis.local:6379', 'http://****:****@redis.local:6379'],
  ])('%s: %s masks the credentials it quotes', (_case, name, value, shown) => {
    const err = configError({ [name]: value, SECRET_KEY: 's' });
    expect(err.message).toContain(name);
    expect(err.message).toContain(`"${shown}"`);
    expect(err.message).not.toContain('hunter2');
    expect(err.message).not.toContain('tok3n');
  });

  it('quotes a value without credentials as it is', () => {
    expect(configError({ TOGETHER_PROXY: 'localhost:3128' }).message).toContain('"localhost:3128"');
  });
});

describe('shutdown', () => {
  it('SHUTDOWN_GRACE_SECONDS: 30 s by default, 0 (cut at once) to an hour, in ms', () => {
    expect(loadConfig({}).shutdownGraceMs).toBe(30_000);
    expect(loadConfig({ SHUTDOWN_GRACE_SECONDS: '0' }).shutdownGraceMs).toBe(0);
    expect(loadConfig({ SHUTDOWN_GRACE_SECONDS: '120' }).shutdownGraceMs).toBe(120_000);
    expect(() => loadConfig({ SHUTDOWN_GRACE_SECONDS: '3601' })).toThrow(/SHUTDOWN_GRACE_SECONDS/);
    expect(() => loadConfig({ SHUTDOWN_GRACE_SECONDS: '30s' })).toThrow(/SHUTDOWN_GRACE_SECONDS/);
  });
});

describe('cluster mode (REDIS_URL)', () => {
  it('is off without REDIS_URL; with it, needs SECRET_KEY and reads the prefix and log cap', () => {
    expect(loadConfig({}).redis).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'redis://r:6379', SECRET_KEY: 's' }).redis).toEqual({ url: 'redis://r:6379', keyPrefix: 'g4f:', logMaxEntries: 100_000 });
    expect(loadConfig({ REDIS_URL: 'rediss://u:p@r/2', SECRET_KEY: 's', REDIS_KEY_PREFIX: 'prod:', REDIS_LOG_MAX_ENTRIES: '5000' }).redis).toEqual({
      url: 'rediss://u:p@r/2',
      keyPrefix: 'prod:',
      logMaxEntries: 5000,
    });
    expect(() => loadConfig({ REDIS_URL: 'redis://r:6379' })).toThrow(/SECRET_KEY/);
    expect(() => loadConfig({ REDIS_URL: 'http://r:6379', SECRET_KEY: 's' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ REDIS_URL: 'r:6379', SECRET_KEY: 's' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ REDIS_URL: 'redis://r', SECRET_KEY: 's', REDIS_LOG_MAX_ENTRIES: '10' })).toThrow(/REDIS_LOG_MAX_ENTRIES/);
    // LOG_MAX_ENTRIES bounds the request log in either store; the older Redis-only name still wins.
    expect(loadConfig({ REDIS_URL: 'redis://r', SECRET_KEY: 's', LOG_MAX_ENTRIES: '7000' }).redis?.logMaxEntries).toBe(7000);
    expect(loadConfig({ REDIS_URL: 'redis://r', SECRET_KEY: 's', LOG_MAX_ENTRIES: '7000', REDIS_LOG_MAX_ENTRIES: '8000' }).redis?.logMaxEntries).toBe(8000);
  });
});

describe('LOG_LEVEL', () => {
  it('is info by default; takes error, warn, info (or Nest’s "log"), debug, verbose in any case', () => {
    expect(loadConfig({}).logLevel).toBe('info');
    expect(loadConfig({ LOG_LEVEL: '  ' }).logLevel).toBe('info');
    expect(loadConfig({ LOG_LEVEL: 'log' }).logLevel).toBe('info');
    for (const level of ['error', 'warn', 'info', 'debug', 'verbose'] as const) expect(loadConfig({ LOG_LEVEL: level.toUpperCase() }).logLevel).toBe(level);
  });

  it('refuses anything else, naming the variable and the choices', () => {
    expect(configError({ LOG_LEVEL: 'trace' }).message).toBe('LOG_LEVEL must be one of error, warn, info, debug, verbose, got "trace"');
  });
});

describe('stored Responses API answers', () => {
  it('RESPONSES_TTL_SECONDS: 30 days by default (as OpenAI keeps them), a minute to a year', () => {
    expect(loadConfig({}).responses.ttlSeconds).toBe(30 * 24 * 3600);
    expect(loadConfig({ RESPONSES_TTL_SECONDS: '3600' }).responses.ttlSeconds).toBe(3600);
    expect(configError({ RESPONSES_TTL_SECONDS: '59' }).message).toMatch(/RESPONSES_TTL_SECONDS/);
    expect(configError({ RESPONSES_TTL_SECONDS: String(366 * 24 * 3600) }).message).toMatch(/RESPONSES_TTL_SECONDS/);
    expect(configError({ RESPONSES_TTL_SECONDS: '1d' }).message).toMatch(/RESPONSES_TTL_SECONDS/);
  });

  it('RESPONSES_MAX_STORED_BYTES: 4 MB by default, a size', () => {
    expect(loadConfig({}).responses.maxStoredBytes).toBe(4 * MB);
    expect(loadConfig({ RESPONSES_MAX_STORED_BYTES: '512kb' }).responses.maxStoredBytes).toBe(512 * 1024);
    expect(configError({ RESPONSES_MAX_STORED_BYTES: 'lots' }).message).toMatch(/RESPONSES_MAX_STORED_BYTES/);
  });
});

describe('MODEL_ALIASES', () => {
  it('is {} when unset or blank, else the JSON object as given (the catalog checks patterns and targets)', () => {
    expect(loadConfig({}).modelAliases).toEqual({});
    expect(loadConfig({ MODEL_ALIASES: '  ' }).modelAliases).toEqual({});
    expect(loadConfig({ MODEL_ALIASES: ' {"claude-*": "qwen3-coder", "gpt-5*": "deepseek-v3"} ' }).modelAliases).toEqual({
      'claude-*': 'qwen3-coder',
      'gpt-5*': 'deepseek-v3',
    });
  });

  it('refuses what is not a JSON object, naming the variable', () => {
    expect(() => loadConfig({ MODEL_ALIASES: '{"claude-*": ' })).toThrow(/MODEL_ALIASES must be a JSON object/);
    expect(() => loadConfig({ MODEL_ALIASES: '["claude-*"]' })).toThrow(ConfigError);
    expect(() => loadConfig({ MODEL_ALIASES: '"x"' })).toThrow(/MODEL_ALIASES/);
  });
});

describe('QUOTA_TIME_ZONE', () => {
  it('is UTC when unset or blank, else the IANA zone as Intl spells it', () => {
    expect(loadConfig({}).quotaTimeZone).toBe('UTC');
    expect(loadConfig({ QUOTA_TIME_ZONE: ' ' }).quotaTimeZone).toBe('UTC');
    expect(loadConfig({ QUOTA_TIME_ZONE: ' Asia/Shanghai ' }).quotaTimeZone).toBe('Asia/Shanghai');
    expect(loadConfig({ QUOTA_TIME_ZONE: 'america/new_york' }).quotaTimeZone).toBe('America/New_York');
    // UTC in any case is answered without Intl, spelled as Intl spells it.
    expect(loadConfig({ QUOTA_TIME_ZONE: ' utc ' }).quotaTimeZone).toBe(new Intl.DateTimeFormat('en-US', { timeZone: 'utc' }).resolvedOptions().timeZone);
  });

  it('refuses a zone Intl does not know, naming the variable', () => {
    expect(configError({ QUOTA_TIME_ZONE: 'Mars/Olympus' }).message).toMatch(/QUOTA_TIME_ZONE must be an IANA time zone.*Mars\/Olympus/);
  });
});

describe('RESPONSE_MODEL', () => {
  it('is served by default; requested restores the echo of the client’s id; anything else is refused', () => {
    expect(loadConfig({}).responseModel).toBe('served');
    expect(loadConfig({ RESPONSE_MODEL: ' Requested ' }).responseModel).toBe('requested');
    expect(loadConfig({ RESPONSE_MODEL: 'served' }).responseModel).toBe('served');
    expect(() => loadConfig({ RESPONSE_MODEL: 'upstream' })).toThrow(/RESPONSE_MODEL must be served or requested/);
  });
});

describe('stream resumption (STREAM_RESUME*)', () => {
  it('is off by default, one resume, no prefill providers', () => {
    expect(loadConfig({}).streamResume).toEqual({ enabled: false, maxResumes: 1, prefillProviders: [] });
  });

  it('reads the switch, the bound and the providers that take prefill', () => {
    const config = loadConfig({ STREAM_RESUME: 'true', STREAM_RESUME_MAX: '2', STREAM_RESUME_PROVIDERS: ' Together, my-ollama ,' });
    expect(config.streamResume).toEqual({ enabled: true, maxResumes: 2, prefillProviders: ['Together', 'my-ollama'] });
  });

  it.each([
    ['STREAM_RESUME', 'sometimes'],
    ['STREAM_RESUME_MAX', '0'],
    ['STREAM_RESUME_MAX', '6'],
  ])('%s=%s → ConfigError naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });
});

describe('response cache (RESPONSE_CACHE*)', () => {
  it('is off by default: 1 h, 64 MB in all, 1 MB an entry, no forced models, kept in SQLite', () => {
    expect(loadConfig({}).responseCache).toEqual({ enabled: false, ttlMs: 3_600_000, maxBytes: 64 * MB, maxEntryBytes: MB, models: [], store: 'sqlite' });
  });

  it('reads the switch, TTL, caps and forced models', () => {
    const config = loadConfig({
      RESPONSE_CACHE: 'true',
      RESPONSE_CACHE_TTL: '90s',
      RESPONSE_CACHE_MAX_BYTES: '2mb',
      RESPONSE_CACHE_MAX_ENTRY_BYTES: '64kb',
      RESPONSE_CACHE_MODELS: ' llama-3.3-70b, qwen3-coder ,',
      RESPONSE_CACHE_STORE: ' Memory ',
    });
    expect(config.responseCache).toEqual({
      enabled: true,
      ttlMs: 90_000,
      maxBytes: 2 * MB,
      maxEntryBytes: 64 * 1024,
      models: ['llama-3.3-70b', 'qwen3-coder'],
      store: 'memory',
    });
    expect(loadConfig({ RESPONSE_CACHE_STORE: 'sqlite' }).responseCache.store).toBe('sqlite');
  });

  it.each([
    ['RESPONSE_CACHE', 'maybe'],
    ['RESPONSE_CACHE_TTL', 'soon'],
    ['RESPONSE_CACHE_TTL', '0'],
    ['RESPONSE_CACHE_TTL', '31d'],
    ['RESPONSE_CACHE_MAX_BYTES', 'lots'],
    ['RESPONSE_CACHE_MAX_ENTRY_BYTES', '1 tb'],
    ['RESPONSE_CACHE_STORE', 'redis'],
  ])('%s=%s → ConfigError naming it', (name, value) => {
    expect(configError({ [name]: value }).message).toMatch(new RegExp(name));
  });
});

describe('session affinity (SESSION_AFFINITY*)', () => {
  it('is on by default: 30 minutes, 100 000 sessions', () => {
    expect(loadConfig({}).sessionAffinity).toEqual({ enabled: true, ttlMs: 1_800_000, maxSessions: 100_000 });
  });

  it('reads the switch, the TTL and the bound', () => {
    const config = loadConfig({ SESSION_AFFINITY: 'false', SESSION_AFFINITY_TTL: '2h', SESSION_AFFINITY_MAX_SESSIONS: '500' });
    expect(config.sessionAffinity).toEqual({ enabled: false, ttlMs: 7_200_000, maxSessions: 500 });
  });

  it.each([
    ['SESSION_AFFINITY', 'sometimes'],
    ['SESSION_AFFINITY_TTL', '500ms'],
    ['SESSION_AFFINITY_MAX_SESSIONS', '0'],
  ])('%s=%s → ConfigError naming it', (name, value) => {
    expect(configError({ [name]: value }).message).toMatch(new RegExp(name));
  });
});

describe('speech recognition', () => {
  it('TRANSCRIPTION_MAX_BYTES: 25 MB by default (as OpenAI), a size', () => {
    expect(loadConfig({}).transcriptions.maxFileBytes).toBe(25 * MB);
    expect(loadConfig({ TRANSCRIPTION_MAX_BYTES: ' 1mb ' }).transcriptions.maxFileBytes).toBe(MB);
    expect(loadConfig({ TRANSCRIPTION_MAX_BYTES: '' }).transcriptions.maxFileBytes).toBe(25 * MB);
    expect(configError({ TRANSCRIPTION_MAX_BYTES: 'big' }).message).toMatch(/TRANSCRIPTION_MAX_BYTES/);
  });

  it('TRANSCRIPTION_MAX_CONCURRENT: 4 uploads at once by default, 1 to 1000', () => {
    expect(loadConfig({}).transcriptions.maxConcurrent).toBe(4);
    expect(loadConfig({ TRANSCRIPTION_MAX_CONCURRENT: '16' }).transcriptions.maxConcurrent).toBe(16);
    expect(configError({ TRANSCRIPTION_MAX_CONCURRENT: '0' }).message).toMatch(/TRANSCRIPTION_MAX_CONCURRENT/);
  });
});

describe('health probes (HEALTH_PROBE, HEALTH_PROBE_PROVIDERS)', () => {
  it('default to a one-token chat for every provider', () => {
    expect(loadConfig({}).health).toMatchObject({ probe: 'chat', probeByProvider: {} });
  });

  it('take a default mode and per-provider modes with an optional chat model', () => {
    const { health } = loadConfig({ HEALTH_PROBE: 'Models', HEALTH_PROBE_PROVIDERS: 'DeepInfra=off, together=models,huggingface=chat:llama-3.2-1b' });
    expect(health.probe).toBe('models');
    expect(health.probeByProvider).toEqual({ deepinfra: { mode: 'off' }, together: { mode: 'models' }, huggingface: { mode: 'chat', model: 'llama-3.2-1b' } });
  });

  it('refuse unknown modes and malformed entries, naming the variable', () => {
    expect(configError({ HEALTH_PROBE: 'ping' }).message).toMatch(/HEALTH_PROBE must be one of chat, models, off/);
    expect(configError({ HEALTH_PROBE_PROVIDERS: 'deepinfra' }).message).toMatch(/HEALTH_PROBE_PROVIDERS entries/);
    expect(configError({ HEALTH_PROBE_PROVIDERS: 'deepinfra=models:gpt-4o' }).message).toMatch(/HEALTH_PROBE_PROVIDERS entries/);
  });
});

describe('the providers’ quota ledger (QUOTA_LIMITS, QUOTA_SYNC_MS, KEY_RETEST_*, QUOTA_PROBE_MIN_HEADROOM, HEALTH_CHECK_INTERVAL_PROVIDERS)', () => {
  it('has no overrides, a 2 s sync, retests after 1 h then daily, and keeps a tenth of a quota from probes by default', () => {
    expect(loadConfig({}).providerQuota).toEqual({
      overrides: {},
      syncMs: 2000,
      retestFirstMs: 3_600_000,
      retestLaterMs: 86_400_000,
      probeMinHeadroom: 0.1,
      probeIntervalMs: {},
    });
  });

  it('reads limits per provider and per key, flat as operators write them', () => {
    const { providerQuota } = loadConfig({
      QUOTA_LIMITS: JSON.stringify({
        Cloudflare: { 'neurons/day': 5000, timeZone: 'America/Los_Angeles', resetHour: 3 },
        'deepinfra#env-0123abcd4567': { 'requests/30s': 2, 'tokens/minute': null, creditWindow: 'month' },
      }),
      QUOTA_SYNC_MS: '100',
      KEY_RETEST_FIRST_MS: '5000',
      KEY_RETEST_MS: '60000',
      QUOTA_PROBE_MIN_HEADROOM: '0.25',
      HEALTH_CHECK_INTERVAL_PROVIDERS: 'cloudflare=6h, DeepInfra=30m,together=90s',
    });
    expect(providerQuota).toEqual({
      overrides: {
        cloudflare: { limits: { 'neurons/day': 5000 }, timeZone: 'America/Los_Angeles', resetHour: 3 },
        'deepinfra#env-0123abcd4567': { limits: { 'requests/30s': 2, 'tokens/minute': null }, creditWindow: 'month' },
      },
      syncMs: 100,
      retestFirstMs: 5000,
      retestLaterMs: 60_000,
      probeMinHeadroom: 0.25,
      probeIntervalMs: { cloudflare: 6 * 3_600_000, deepinfra: 30 * 60_000, together: 90_000 },
    });
  });

  it.each([
    [{ QUOTA_LIMITS: '[1]' }, /QUOTA_LIMITS must be a JSON object/],
    [{ QUOTA_LIMITS: '{"deepinfra": {"requests/fortnight": 1}}' }, /unknown field "requests\/fortnight"/],
    [{ QUOTA_LIMITS: '{"deepinfra": {"requests/day": -1}}' }, /whole number/],
    [{ QUOTA_LIMITS: '{"deepinfra": {"timeZone": "Mars/Olympus"}}' }, /IANA time zone/],
    [{ QUOTA_LIMITS: '{"deepinfra": {"resetHour": 24}}' }, /resetHour/],
    [{ QUOTA_LIMITS: '{"deep infra": {}}' }, /QUOTA_LIMITS keys are a provider's id or name/],
    [{ QUOTA_PROBE_MIN_HEADROOM: '2' }, /QUOTA_PROBE_MIN_HEADROOM/],
    [{ KEY_RETEST_FIRST_MS: '10' }, /KEY_RETEST_FIRST_MS/],
    [{ HEALTH_CHECK_INTERVAL_PROVIDERS: 'cloudflare=often' }, /HEALTH_CHECK_INTERVAL_PROVIDERS entries/],
    [{ HEALTH_CHECK_INTERVAL_PROVIDERS: 'cloudflare=0s' }, /between 1s and 30d/],
  ])('refuses %j, naming what is wrong', (env, message) => {
    expect(configError(env).message).toMatch(message);
  });
});

describe('discovery auto-add (DISCOVERY_AUTO_ADD)', () => {
  it('is off for every provider by default', () => {
    expect(loadConfig({}).discoveryAutoAdd).toEqual([]);
  });

  it('takes provider names, any case, or * for all', () => {
    expect(loadConfig({ DISCOVERY_AUTO_ADD: ' DeepInfra, together ,' }).discoveryAutoAdd).toEqual(['deepinfra', 'together']);
    expect(loadConfig({ DISCOVERY_AUTO_ADD: '*' }).discoveryAutoAdd).toEqual(['*']);
  });
});
