/**
 * The deployment files against the application they deploy. No Docker engine or cluster runs
 * here, so these read the Dockerfile, the compose files and the Kubernetes manifests and check
 * that they agree with the app and with each other: ports, probe paths (requested on the running
 * app), environment variable names (the ones the config reads), the image name, the data volume,
 * the user, graceful-shutdown timings.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { ConfigError, loadConfig } from '../../apps/api/src/config/app-config.ts';
import { BUILTIN_PROVIDERS } from '../../apps/api/src/providers/builtin-providers.ts';
import { providerEnvNames } from '../../apps/api/src/providers/provider-declaration.ts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { startGateway, type Gateway } from '../support/gateway.ts';
import { freePort } from '../support/gateway-process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string; scripts: Record<string, string> };
const IMAGE = `gpt4free-pool:${pkg.version}`;

/* ------------------------------------------------------------------ what the app reads */

/**
 * Every environment variable apps/api/src/config/app-config.ts reads, the per-provider ones included:
 * each built-in provider's `<P>_*`, key aliases and extra settings, as its declaration names them.
 */
function configEnvNames(): Set<string> {
  const source = read('apps/api/src/config/app-config.ts');
  const names = new Set([...source.matchAll(/env\.([A-Z][A-Z0-9_]+)|\(env, '([A-Z][A-Z0-9_]+)'/g)].map((m) => (m[1] ?? m[2])!));
  const suffixes = [...source.matchAll(/`\$\{prefix\}_([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!);
  expect(suffixes).toEqual(expect.arrayContaining(['API_KEY', 'BASE_URL', 'ENABLED', 'PROXY', 'PRIORITY']));
  for (const p of BUILTIN_PROVIDERS) {
    for (const suffix of suffixes) names.add(`${p.envPrefix}_${suffix}`);
    for (const name of providerEnvNames(p)) names.add(name);
  }
  return names;
}
/** Read by libraries rather than the config: proxy-from-env, Node itself. */
const LIBRARY_ENV = new Set(['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'NODE_ENV']);
const CONFIG_ENV = configEnvNames();

function expectKnownEnv(names: Iterable<string>, where: string): void {
  const unknown = [...names].filter((n) => !CONFIG_ENV.has(n) && !LIBRARY_ENV.has(n));
  expect({ where, unknown }).toEqual({ where, unknown: [] });
}

/** "30s", "1m30s", "45" (seconds) → seconds. */
function seconds(value: string | number): number {
  if (typeof value === 'number') return value;
  let total = 0;
  for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)?/g)) total += Number(n) * { ms: 0.001, s: 1, m: 60, h: 3600 }[(unit ?? 's') as 's'];
  return total;
}

/* ------------------------------------------------------------------ Dockerfile */

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  steps: Instruction[];
}

/** Stages of a Dockerfile: continuation lines joined, comments dropped, ARG defaults substituted in FROM. */
function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [, op, rest] = /^(\S+)\s*(.*)$/.exec(line)!;
    const instruction = { op: op!.toUpperCase(), args: rest!.replace(/\s+/g, ' ') };
    if (instruction.op === 'ARG' && !stages.length) {
      const [name, value = ''] = instruction.args.split('=');
      args.set(name!, value);
    } else if (instruction.op === 'FROM') {
      const [image, as, name] = instruction.args.replace(/\$\{?(\w+)\}?/g, (_, n: string) => args.get(n) ?? '').split(' ');
      stages.push({ from: image!, name: as?.toUpperCase() === 'AS' ? name : undefined, steps: [] });
    } else {
      stages.at(-1)?.steps.push(instruction);
    }
  }
  return stages;
}

const stages = parseDockerfile(read('Dockerfile'));
const runtime = stages.at(-1)!;
const steps = (stage: Stage, op: string) => stage.steps.filter((s) => s.op === op).map((s) => s.args);
const dockerEnv = new Map(
  steps(runtime, 'ENV')
    .flatMap((args) => [...args.matchAll(/(\w+)=(\S+)/g)])
    .map((m) => [m[1]!, m[2]!]),
);

/* ------------------------------------------------------------------ compose */

interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition?: string }>;
  stop_grace_period?: string;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const composeFiles = ['docker-compose.yml', 'docker-compose.oneapi.yml'];
const compose = (file: string) => parseYaml(read(file)) as ComposeFile;
const poolServices = (file: string) => Object.entries(compose(file).services).filter(([, s]) => s.image?.startsWith('gpt4free-pool:'));

/**
 * What the container sees when only `given` is set on the host: `${VAR:-default}` → default,
 * `${VAR}` → ''; `${VAR:?message}` (compose refuses to start without it) throws unless given.
 */
function interpolate(value: string | number, given: Record<string, string> = {}): string {
  return String(value).replace(/\$\{(\w+)(?:(:?[-?])([^}]*))?\}/g, (_, name: string, op?: string, rest?: string) => {
    if (given[name]) return given[name];
    if (op?.endsWith('?')) throw new Error(`${name} is required: ${rest}`);
    return op ? rest! : '';
  });
}

/** A compose value as the container gets it: `$$` is a literal `$` (left to the container's shell), the rest as interpolate(). */
function composeScript(value: string, given: Record<string, string> = {}): string {
  return value
    .split('$$')
    .map((part) => interpolate(part, given))
    .join('$');
}

/** Variables a compose file requires (`${VAR:?…}`), each given a value. */
function requiredVars(file: string): Record<string, string> {
  return Object.fromEntries([...read(file).matchAll(/\$\{(\w+):?\?/g)].map((m) => [m[1]!, `value-of-${m[1]}`]));
}

const serviceEnv = (file: string, service: ComposeService, given = requiredVars(file)) =>
  Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(v, given)]));

/**
 * A Redis container's start script (the manifest's or the compose file's) run for real as its
 * shell would, on a loopback port and a temporary directory instead of `/data`, with its health
 * checks (shell commands calling redis-cli). Without REDIS_PASSWORD the script must refuse to
 * start; with one, every check passes, fails with a wrong password, and a client without the
 * password is refused. Returns the memory settings Redis runs with, read through `connect`.
 */
async function runRedisScript(
  script: string,
  checks: string[],
  connect: (password: string, port: number) => Redis,
): Promise<{ policy: string; maxmemory: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'g4f-redis-script-'));
  const shell = (command: string, password: string, stdio: 'ignore' | 'pipe') =>
    spawn('sh', ['-c', command], { env: { PATH: process.env.PATH ?? '', REDIS_PASSWORD: password }, stdio: ['ignore', stdio, stdio] });
  const exitOf = (child: ReturnType<typeof spawn>) => new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const run = (password: string) => shell(`${script.replace('--dir /data', `--dir ${dir}`)} --port ${port} --bind 127.0.0.1`, password, 'pipe');
  const check = (command: string, password: string) => exitOf(shell(command.replace('redis-cli', `redis-cli -p ${port}`), password, 'ignore'));

  const empty = run('');
  let complaint = '';
  empty.stderr!.on('data', (d: Buffer) => (complaint += d.toString()));
  expect(await exitOf(empty)).toBe(1);
  expect(complaint).toContain('REDIS_PASSWORD is empty');

  const password = 's3cr3t-hex';
  const server = run(password);
  const exited = exitOf(server);
  try {
    const deadline = Date.now() + 5000;
    while ((await check(checks[0]!, password)) !== 0) {
      if (Date.now() > deadline) throw new Error('redis-server did not become ready');
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const command of checks) {
      expect(await check(command, password)).toBe(0);
      expect(await check(command, 'wrong')).not.toBe(0);
    }
    const anonymous = await new Promise<string>((resolve) => {
      const cli = spawn('redis-cli', ['-p', String(port), 'ping'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
      cli.on('exit', () => resolve(out));
    });
    expect(anonymous).toMatch(/NOAUTH/);
    const client = connect(password, port);
    try {
      await client.connect();
      const policy = (await client.config('GET', 'maxmemory-policy')) as string[];
      const maxmemory = (await client.config('GET', 'maxmemory')) as string[];
      return { policy: policy[1]!, maxmemory: maxmemory[1]! };
    } finally {
      client.disconnect();
    }
  } finally {
    server.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/* ------------------------------------------------------------------ Kubernetes */

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // The rest is walked loosely.
  [field: string]: unknown;
}
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const k8sDir = join(root, 'deploy/kubernetes');
const kustomization = parseYaml(read('deploy/kubernetes/kustomization.yaml')) as Json;
const manifestFiles = readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
const k8s: K8sObject[] = manifestFiles
  .flatMap((f) =>
    parseAllDocuments(readFileSync(join(k8sDir, f), 'utf8')).map((doc) => {
      expect(doc.errors).toEqual([]);
      return doc.toJS() as K8sObject;
    }),
  )
  .filter(Boolean);
const byKind = (kind: string) => k8s.filter((o) => o.kind === kind) as Json[];
const one = (kind: string, name: string) => {
  const found = byKind(kind).find((o) => o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return found;
};
const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** An env file as kustomize's generators read it: KEY=VALUE lines, `#` comments and blank lines skipped. */
function envFile(path: string): Record<string, string> {
  const entries = read(path)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const eq = l.indexOf('=');
      expect({ line: l, eq: eq > 0 }).toEqual({ line: l, eq: true });
      return [l.slice(0, eq), l.slice(eq + 1)] as const;
    });
  return Object.fromEntries(entries);
}
/** The generator of that name in kustomization.yaml, and the data its env files make. */
function generated(kind: 'configMapGenerator' | 'secretGenerator', name: string): { files: string[]; data: Record<string, string> } {
  const generator = (kustomization[kind] as Json[]).find((g) => g.name === name)!;
  expect(generator).toBeDefined();
  const files = generator.envs as string[];
  // secret.env is the operator's copy of secret.env.example, never in git.
  const data = Object.assign({}, ...files.map((f) => envFile(`deploy/kubernetes/${existsSync(join(k8sDir, f)) ? f : `${f}.example`}`))) as Record<
    string,
    string
  >;
  return { files, data };
}

const gateway = one('Deployment', 'gpt4free-pool');
const podSpec = gateway.spec.template.spec as Json;
const container = (podSpec.containers as Json[]).find((c) => c.name === 'gateway')!;
const configData = generated('configMapGenerator', 'gpt4free-pool').data;
const secretData = generated('secretGenerator', 'gpt4free-pool').data;
const k8sEnv: Record<string, string> = { ...configData, ...secretData };
const redisSet = one('StatefulSet', 'gpt4free-pool-redis');
const redisContainer = (redisSet.spec.template.spec.containers as Json[])[0]!;

/* ------------------------------------------------------------------ the app, for the probe paths */

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway(null, {});
});
afterAll(() => gw?.close());
const status = async (path: string) => (await fetch(`${gw.url}${path}`)).status;

describe('Dockerfile', () => {
  it('builds in one stage and runs in another, both on Node 24 slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.from).toMatch(/^node:24(\.\d+)*(-[a-z0-9]+)?-slim$/);
  });

  it('the build stage installs everything and runs `npm run build` (API and console) into dist/', () => {
    const build = stages.find((s) => steps(s, 'RUN').some((r) => r.includes('npm run build')));
    expect(build).toBeDefined();
    expect(build).not.toBe(runtime);
    expect(steps(build!, 'RUN').some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev|--production|--only=prod/.test(r))).toBe(true);
    // `npm run build`, with the scripts it runs, writes both halves under dist/: the API (nest
    // build) and the console (ng build, apps/admin/angular.json's outputPath).
    const expand = (script: string): string => script.replace(/npm run ([\w:-]+)/g, (_, name: string) => expand(pkg.scripts[name] ?? ''));
    const buildScript = expand(pkg.scripts.build!);
    expect(buildScript).toContain('nest build');
    expect(buildScript).toMatch(/build-admin\.mjs|ng build/);
    expect(read('apps/admin/angular.json')).toContain('"outputPath": "../../dist/admin"');
  });

  it('the runtime stage has production dependencies only, all of dist/, the catalog and package.json', () => {
    const run = steps(runtime, 'RUN');
    expect(run.some((r) => /\bnpm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(run.some((r) => r.includes('npm run build'))).toBe(false);
    const copies = steps(runtime, 'COPY');
    const buildStage = stages.find((s) => steps(s, 'RUN').some((r) => r.includes('npm run build')))!;
    // All of dist/, not a part of it: the console (dist/admin) and the contracts (dist/libs) too.
    expect(copies).toContainEqual(expect.stringMatching(new RegExp(`^--from=${buildStage.name} /app/dist \\./dist$`)));
    expect(copies).toContainEqual(expect.stringMatching(/^catalog \.\/catalog$/));
    // package.json: the "#contracts" import map and the version the API reports.
    expect(copies).toContainEqual(expect.stringMatching(/^package\.json package-lock\.json \.\/$/));
  });

  it('runs the same command as `npm start`, node options included', () => {
    const cmd = JSON.parse(steps(runtime, 'CMD').at(-1)!) as string[];
    expect(cmd).toEqual(pkg.scripts.start!.trim().split(/\s+/));
  });

  it('runs as a non-root user, numeric so that Kubernetes can verify runAsNonRoot', () => {
    const user = steps(runtime, 'USER').at(-1);
    expect(user).toBeDefined();
    const [uid] = user!.split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    expect(podSpec.securityContext.runAsUser).toBe(Number(uid));
  });

  it('serves PORT 8080 and keeps DATA_DIR on a volume the user owns', () => {
    expect(dockerEnv.get('PORT')).toBe('8080');
    expect(steps(runtime, 'EXPOSE')).toEqual(['8080']);
    const dataDir = dockerEnv.get('DATA_DIR')!;
    expect(dataDir).toMatch(/^\//);
    expect(JSON.parse(steps(runtime, 'VOLUME')[0]!)).toEqual([dataDir]);
    const uid = steps(runtime, 'USER').at(-1)!.split(':')[0]!;
    expect(steps(runtime, 'RUN')).toContainEqual(expect.stringContaining(`chown ${uid}`));
    expect(steps(runtime, 'RUN').find((r) => r.includes('chown'))).toContain(dataDir);
    expectKnownEnv(dockerEnv.keys(), 'Dockerfile ENV');
  });

  it('HEALTHCHECK requests a path the app answers with 200, on PORT', async () => {
    const check = steps(runtime, 'HEALTHCHECK').at(-1)!;
    const path = /(\/health[^`'"\s)]*)/.exec(check)?.[1];
    expect(path).toBeDefined();
    expect(check).toContain('process.env.PORT');
    expect(await status(path!)).toBe(200);
  });

  it('needs no `# syntax=` line (it would pull a frontend image on every build) and caches npm downloads in BuildKit mounts', () => {
    expect(read('Dockerfile')).not.toMatch(/^#\s*syntax\s*=/im);
    const installs = stages.flatMap((stage) => steps(stage, 'RUN')).filter((r) => /\bnpm ci\b/.test(r));
    expect(installs).toHaveLength(2);
    for (const run of installs) expect(run).toMatch(/^--mount=type=cache,target=\/root\/\.npm npm ci /);
    // The cache lives in the mount, so no layer holds it and there is nothing to clean.
    expect(steps(runtime, 'RUN').some((r) => r.includes('npm cache clean'))).toBe(false);
  });

  it('HEALTHCHECK checks every second while the app starts, so compose sees it healthy within ~1-2 s', () => {
    const check = steps(runtime, 'HEALTHCHECK').at(-1)!;
    const flag = (name: string) => seconds([...check.matchAll(/--([\w-]+)=(\S+)/g)].find((m) => m[1] === name)?.[2] ?? 'NaN');
    expect(flag('start-interval')).toBeGreaterThan(0);
    expect(flag('start-interval')).toBeLessThanOrEqual(1);
    // Room for a slow start (a first start migrates and seeds the store) before failures count.
    expect(flag('start-period')).toBeGreaterThanOrEqual(30);
    expect(flag('interval')).toBeGreaterThanOrEqual(10);
    expect(flag('timeout')).toBeLessThan(flag('interval'));
  });

  it('.dockerignore leaves out node_modules, dist, data and test-output, and nothing the build needs', () => {
    const patterns = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#') && !l.startsWith('!'));
    for (const excluded of ['node_modules', 'dist', 'data', 'test-output']) expect(patterns).toContain(excluded);
    const needed = [
      'package.json',
      'package-lock.json',
      'catalog',
      'apps',
      'apps/admin',
      'libs',
      'scripts',
      'nest-cli.json',
      'tsconfig.json',
      'tsconfig.build.json',
    ];
    for (const path of needed) {
      const hit = patterns.find((p) => p === path || path.startsWith(`${p}/`));
      expect({ path, hit }).toEqual({ path, hit: undefined });
    }
  });
});

describe.each(composeFiles)('%s', (file) => {
  const doc = compose(file);
  const pools = poolServices(file);

  it('runs the gateway image, built from this Dockerfile', () => {
    expect(pools).toHaveLength(1);
    const [, service] = pools[0]!;
    expect(service.image).toBe(IMAGE);
    expect(service.build).toBe('.');
  });

  it('publishes 8080 = PORT on this machine only unless a variable says otherwise, keeps DATA_DIR on a named volume, reads only variables the config knows', () => {
    const [, service] = pools[0]!;
    const env = serviceEnv(file, service);
    expect(env.PORT).toBe('8080');
    expect(service.ports).toHaveLength(1);
    expect(interpolate(service.ports![0]!)).toBe('127.0.0.1:8080:8080');
    const variable = /^\$\{(\w+):-/.exec(service.ports![0]!)?.[1];
    expect(variable).toBeDefined();
    expect(interpolate(service.ports![0]!, { [variable!]: '8080' })).toBe('8080:8080');
    expect(env.DATA_DIR).toBe(dockerEnv.get('DATA_DIR'));
    const mount = service.volumes?.map((v) => v.split(':')).find(([, target]) => target === env.DATA_DIR);
    expect(mount).toBeDefined();
    expect(Object.keys(doc.volumes ?? {})).toContain(mount![0]);
    expectKnownEnv(Object.keys(env), file);
    // With nothing set on the host, the container's environment is a valid configuration.
    const config = loadConfig(env);
    expect(config.port).toBe(8080);
    expect(config.dataDir).toBe(env.DATA_DIR);
  });

  it('hands the whole `.env` to the gateway (a missing one is fine), with PORT, HOST and DATA_DIR fixed whatever it says', () => {
    const [, service] = pools[0]!;
    expect((service as { env_file?: unknown }).env_file).toEqual([{ path: '.env', required: false }]);
    expect(service.environment).toMatchObject({ PORT: '8080', HOST: '0.0.0.0', DATA_DIR: dockerEnv.get('DATA_DIR') });
    expect(loadConfig(serviceEnv(file, service)).host).toBe('0.0.0.0');
    expect(read('.dockerignore').split('\n')).toContain('.env');
  });

  it('gives streams in flight their grace period before the container is killed', () => {
    const [, service] = pools[0]!;
    const grace = loadConfig(serviceEnv(file, service)).shutdownGraceMs / 1000;
    expect(seconds(service.stop_grace_period!)).toBeGreaterThan(grace);
  });
});

describe('docker-compose.yml', () => {
  const doc = compose('docker-compose.yml');

  it('starts the gateway alone by default; Redis only with --profile redis', () => {
    const [name, pool] = poolServices('docker-compose.yml')[0]!;
    expect(pool.profiles).toBeUndefined();
    expect(Object.entries(doc.services).filter(([, s]) => !s.profiles)).toEqual([[name, pool]]);
    expect(doc.services.redis?.profiles).toEqual(['redis']);
    expect(doc.services.redis?.image).toMatch(/^redis:/);
  });

  it('with the profile, REDIS_URL carrying REDIS_PASSWORD (and SECRET_KEY) reach the gateway and make a valid cluster configuration', () => {
    const [, pool] = poolServices('docker-compose.yml')[0]!;
    expect(pool.environment?.REDIS_URL).toBe('${REDIS_URL:-}');
    expect(pool.environment?.SECRET_KEY).toBe('${SECRET_KEY:-}');
    for (const text of [read('docker-compose.yml'), read('.env.example')]) {
      expect(text).toMatch(/REDIS_PASSWORD=/);
      expect(text).toMatch(/REDIS_URL=redis:\/\/:<[^>]*PASSWORD[^>]*>@redis:6379/);
    }
    expect(read('.env.example')).toContain('COMPOSE_PROFILES=redis');
    const url = 'redis://:0123abcd@redis:6379';
    expect(() => loadConfig({ REDIS_URL: url })).toThrow(ConfigError);
    expect(loadConfig({ REDIS_URL: url, SECRET_KEY: 'k'.repeat(32) }).redis).toMatchObject({ url });
  });

  it('Redis takes its password from the environment, refuses to start without one, and never evicts gateway state', () => {
    const redis = doc.services.redis as ComposeService & { command: string[]; healthcheck: { test: string[] } };
    expect(redis.environment).toEqual({ REDIS_PASSWORD: '${REDIS_PASSWORD:-}' });
    expect(redis.command.slice(0, 2)).toEqual(['sh', '-c']);
    const script = composeScript(redis.command[2]!);
    expect(script).toContain('--requirepass "$REDIS_PASSWORD"');
    expect(script).toMatch(/--maxmemory 384mb --maxmemory-policy noeviction\b/);
    expect(composeScript(redis.command[2]!, { REDIS_MAXMEMORY: '1gb' })).toContain('--maxmemory 1gb ');
    expect(script).toContain('--appendonly yes');
    expect(redis.healthcheck.test[0]).toBe('CMD-SHELL');
    expect(composeScript(redis.healthcheck.test[1]!)).toContain('REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping');
  });

  it('the Redis command and health check, run for real: no start without a password; with one, auth required, maxmemory and noeviction set', async () => {
    const redis = doc.services.redis as ComposeService & { command: string[]; healthcheck: { test: string[] } };
    // The gateway connects with REDIS_URL as .env.example writes it: the password in the URL.
    const settings = await runRedisScript(composeScript(redis.command[2]!), [composeScript(redis.healthcheck.test[1]!)], (password, port) => {
      const url = loadConfig({ REDIS_URL: `redis://:${password}@127.0.0.1:${port}`, SECRET_KEY: 'k'.repeat(32) }).redis!.url;
      return new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    });
    expect(settings).toEqual({ policy: 'noeviction', maxmemory: String(384 * 1024 * 1024) });
  });
});

describe('docker-compose.yml: who reaches /v1', () => {
  it('with nothing set, /v1 is open inside the container (ALLOW_OPEN_API) because the port is published on 127.0.0.1 only', () => {
    const [, pool] = poolServices('docker-compose.yml')[0]!;
    const config = loadConfig(serviceEnv('docker-compose.yml', pool));
    expect(config.access.allowOpenApi).toBe(true);
    expect(config.apiKeys).toEqual([]);
    expect(interpolate(pool.ports![0]!).startsWith('127.0.0.1:')).toBe(true);
    // The operator can close it again, or require a key.
    expect(loadConfig(serviceEnv('docker-compose.yml', pool, { ALLOW_OPEN_API: 'false', API_KEY: 'k' }))).toMatchObject({
      apiKeys: ['k'],
      access: { allowOpenApi: false },
    });
    expect(read('docker-compose.yml')).toMatch(/GATEWAY_PUBLISH=8080/);
  });
});

describe('docker-compose.oneapi.yml', () => {
  const doc = compose('docker-compose.oneapi.yml');

  it('runs the pool as freeapi-pool (FREEAPI_KEY → API_KEY, required) and one-api (ONEAPI_ROOT_TOKEN → INITIAL_ROOT_TOKEN)', () => {
    const pool = doc.services['freeapi-pool']!;
    expect(pool.image).toBe(IMAGE);
    // one-api connects over the Docker network, not loopback: the pool needs a key, and compose refuses to start without one.
    expect(pool.environment?.API_KEY).toMatch(/^\$\{FREEAPI_KEY:\?.+\}$/);
    expect(() => interpolate(pool.environment!.API_KEY!)).toThrow(/FREEAPI_KEY is required/);
    expect(loadConfig(serviceEnv('docker-compose.oneapi.yml', pool, { FREEAPI_KEY: 'sk-channel' })).apiKeys).toEqual(['sk-channel']);
    expect(pool.environment?.ALLOW_OPEN_API).toBeUndefined();
    const oneApi = doc.services['one-api']!;
    expect(oneApi.image).toMatch(/^justsong\/one-api:/);
    expect(oneApi.environment?.INITIAL_ROOT_TOKEN).toBe('${ONEAPI_ROOT_TOKEN:-}');
    // Its first login is the well-known root / 123456: published on this machine only unless the operator says otherwise.
    expect(oneApi.ports).toEqual(['${ONEAPI_PUBLISH:-127.0.0.1:3000}:3000']);
    expect(interpolate(oneApi.ports![0]!)).toBe('127.0.0.1:3000:3000');
    expect(interpolate(oneApi.ports![0]!, { ONEAPI_PUBLISH: '0.0.0.0:3000' })).toBe('0.0.0.0:3000:3000');
    expect(read('docker-compose.oneapi.yml')).toMatch(/ONEAPI_PUBLISH=3000/);
    // one-api starts once the pool's HEALTHCHECK passes.
    expect(oneApi.depends_on?.['freeapi-pool']).toEqual({ condition: 'service_healthy' });
  });

  it('documents the channel: OpenAI type, Base URL http://freeapi-pool:8080 without /v1, the key', () => {
    const text = read('docker-compose.oneapi.yml');
    expect(text).toContain('Base URL  http://freeapi-pool:8080');
    expect(text).toMatch(/类型\s+OpenAI/);
    expect(text).toContain('FREEAPI_KEY');
    expect(text).toMatch(/密钥\s+the value of FREEAPI_KEY/);
    const readme = read('README.md');
    expect(readme).toContain('docker compose -f docker-compose.oneapi.yml up -d');
    expect(readme).toContain('http://freeapi-pool:8080');
  });
});

describe('deploy/kubernetes', () => {
  it('has the gateway Deployment, Service, HPA, PDB, and Redis with its Service', () => {
    for (const kind of ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) expect(byKind(kind).length).toBeGreaterThan(0);
    const redisWorkload = [...byKind('StatefulSet'), ...byKind('Deployment')].find((w) =>
      (w.spec.template.spec.containers as Json[]).some((c) => /^redis:/.test(c.image)),
    );
    expect(redisWorkload).toBeDefined();
  });

  it('kustomization.yaml applies every manifest in the folder, in one namespace, with the image set in `images`', () => {
    expect(kustomization).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
    expect([...(kustomization.resources as string[])].sort()).toEqual([...manifestFiles].sort());
    const namespace = byKind('Namespace');
    expect(namespace.map((n) => n.metadata.name)).toEqual([kustomization.namespace]);
    // No object pins another namespace: `namespace` puts them all in one.
    for (const o of k8s) expect({ kind: o.kind, namespace: (o.metadata as Json).namespace }).toEqual({ kind: o.kind, namespace: undefined });
    const [name, tag] = container.image.split(':');
    expect(kustomization.images).toEqual([{ name, newName: name, newTag: tag }]);
    expect(read('deploy/kubernetes/kustomization.yaml')).toContain('kustomize edit set image gpt4free-pool=');
  });

  it('generates the ConfigMap from config.env and the Secret from secret.env, which git and the image build leave out', () => {
    expect(generated('configMapGenerator', 'gpt4free-pool').files).toEqual(['config.env']);
    expect(generated('secretGenerator', 'gpt4free-pool').files).toEqual(['secret.env']);
    expect(existsSync(join(k8sDir, 'config.env'))).toBe(true);
    expect(existsSync(join(k8sDir, 'secret.env.example'))).toBe(true);
    expect(read('.gitignore').split('\n')).toContain('deploy/kubernetes/secret.env');
    expect(read('.dockerignore').split('\n')).toContain('deploy/kubernetes/secret.env');
    // Nothing else defines them (a hand-written one would shadow the generated, hashed names).
    expect(byKind('ConfigMap')).toEqual([]);
    expect(byKind('Secret')).toEqual([]);
  });

  it('leaves the replica count to the HPA (no `replicas` that every apply would reset), same image as compose, never :latest', () => {
    expect(gateway.spec.replicas).toBeUndefined();
    expect(container.image).toBe(IMAGE);
    for (const file of composeFiles) expect(poolServices(file)[0]![1].image).toBe(container.image);
  });

  it('with more than one replica, the pods share Redis: REDIS_URL (with the password) points at the headless Redis Service', () => {
    const hpa = byKind('HorizontalPodAutoscaler')[0]!;
    expect(hpa.spec.minReplicas).toBeGreaterThan(1);
    expect(configData.REDIS_URL).toBeUndefined();
    const url = new URL(secretData.REDIS_URL!);
    expect(url.password).toBe('REDIS_PASSWORD');
    const service = one('Service', url.hostname);
    expect(service.spec.clusterIP).toBe('None');
    expect(redisSet.spec.serviceName).toBe(service.metadata.name);
    expect((service.spec.ports as Json[]).map((p) => p.port)).toContain(Number(url.port || 6379));
    const workloads = [...byKind('StatefulSet'), ...byKind('Deployment')];
    const backing = workloads.find((w) => selects(service.spec.selector, w.spec.template.metadata.labels));
    expect(backing).toBe(redisSet);
    expect(redisContainer.image).toMatch(/^redis:/);
  });

  it('Redis takes its password from the Secret, refuses to start without one, and never evicts gateway state', () => {
    expect(redisContainer.env).toEqual([{ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'gpt4free-pool', key: 'REDIS_PASSWORD' } } }]);
    expect(Object.keys(secretData)).toContain('REDIS_PASSWORD');
    const script = (redisContainer.args as string[]).join(' ');
    expect(redisContainer.command).toEqual(['sh', '-c']);
    expect(script).toContain('--requirepass "$REDIS_PASSWORD"');
    expect(script).toMatch(/--maxmemory-policy noeviction\b/);
    const maxmemory = /--maxmemory (\d+)mb\b/.exec(script)?.[1];
    const limitMi = Number(/^(\d+)Mi$/.exec(redisContainer.resources.limits.memory)?.[1]);
    expect(Number(maxmemory)).toBeGreaterThan(0);
    // Below the container's limit: Redis refuses writes before the kernel kills it.
    expect(Number(maxmemory)).toBeLessThanOrEqual(limitMi * 0.8);
    for (const probe of ['livenessProbe', 'readinessProbe']) expect(redisContainer[probe].exec.command.join(' ')).toContain('REDISCLI_AUTH="$REDIS_PASSWORD"');
  });

  it('the Redis command and probes, run for real: no start without a password; with one, auth required, maxmemory and noeviction set', async () => {
    const script = (redisContainer.args as string[]).join(' ');
    const probes = ['readinessProbe', 'livenessProbe'].map((probe) => (redisContainer[probe].exec.command as string[])[2]!);
    const settings = await runRedisScript(
      script,
      probes,
      (password, port) => new Redis(port, '127.0.0.1', { password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null }),
    );
    const mb = Number(/--maxmemory (\d+)mb/.exec(script)![1]);
    expect(settings).toEqual({ policy: 'noeviction', maxmemory: String(mb * 1024 * 1024) });
  });

  it('config.env and secret.env hold only variables the config reads; the Secret only placeholders', () => {
    expectKnownEnv(Object.keys(configData), 'config.env');
    expectKnownEnv(
      Object.keys(secretData).filter((k) => k !== 'REDIS_PASSWORD'),
      'secret.env',
    );
    for (const [key, value] of Object.entries(secretData)) expect({ key, value }).toEqual({ key, value: key === 'REDIS_URL' ? value : '' });
    for (const name of [
      'ADMIN_PASSWORD',
      'SECRET_KEY',
      'API_KEY',
      'REDIS_URL',
      'REDIS_PASSWORD',
      'DEEPINFRA_API_KEY',
      'TOGETHER_API_KEY',
      'HUGGINGFACE_API_KEY',
      'CLOUDFLARE_API_TOKEN',
    ])
      expect(Object.keys(secretData)).toContain(name);
    // No secret in the ConfigMap.
    for (const name of Object.keys(configData)) expect(name).not.toMatch(/KEY|TOKEN|PASSWORD|SECRET|REDIS_URL/);
    // The containers read exactly these two objects.
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'gpt4free-pool' } }, { secretRef: { name: 'gpt4free-pool' } }]);
  });

  it('refuses to start with the placeholder Secret (no SECRET_KEY with shared storage), and is valid once it is filled in', () => {
    expect(() => loadConfig(k8sEnv)).toThrow(/SECRET_KEY/);
    const config = loadConfig({ ...k8sEnv, SECRET_KEY: 'a'.repeat(64) });
    expect(config.port).toBe(8080);
    expect(config.dataDir).toBe(k8sEnv.DATA_DIR);
    expect(config.redis?.url).toBe(k8sEnv.REDIS_URL);
  });

  it('never opens /v1 without a key by accident: ALLOW_OPEN_API is false until the operator decides', () => {
    const config = loadConfig({ ...k8sEnv, SECRET_KEY: 'x' });
    expect(config.apiKeys).toEqual([]);
    expect(config.access.allowOpenApi).toBe(false);
    expect(config.access.trustProxy).toBe(false);
    expect(loadConfig({ ...k8sEnv, SECRET_KEY: 'x', API_KEY: 'k1' }).apiKeys).toEqual(['k1']);
    expect(read('deploy/kubernetes/config.env')).toMatch(/API_KEY in secret\.env/);
  });

  it('exposes PORT as the container port, and the Service and probes reach it', () => {
    const ports = container.ports as Json[];
    expect(ports).toEqual([{ name: 'http', containerPort: Number(configData.PORT) }]);
    expect(configData.PORT).toBe('8080');
    const service = one('Service', 'gpt4free-pool');
    expect(selects(service.spec.selector, gateway.spec.template.metadata.labels)).toBe(true);
    expect(selects(service.spec.selector, one('StatefulSet', 'gpt4free-pool-redis').spec.template.metadata.labels)).toBe(false);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 'http' }]);
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) expect(container[probe]?.httpGet?.port ?? 'http').toBe('http');
  });

  it('liveness is /health/live and readiness /health/ready, and the app answers both', async () => {
    expect(container.livenessProbe.httpGet.path).toBe('/health/live');
    expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      if (container[probe]) expect({ probe, status: await status(container[probe].httpGet.path) }).toEqual({ probe, status: 200 });
    }
  });

  it('sets requests and limits on every container', () => {
    for (const workload of [...byKind('Deployment'), ...byKind('StatefulSet')]) {
      for (const c of workload.spec.template.spec.containers as Json[]) {
        expect(c.resources?.requests?.cpu).toBeDefined();
        expect(c.resources?.requests?.memory).toBeDefined();
        expect(c.resources?.limits?.memory).toBeDefined();
      }
    }
  });

  it('locks every container down: non-root, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
    for (const workload of [...byKind('Deployment'), ...byKind('StatefulSet')]) {
      const spec = workload.spec.template.spec as Json;
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
      expect(spec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const c of spec.containers as Json[]) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          privileged: false,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it('mounts writable volumes at DATA_DIR and /tmp (the root filesystem is read-only)', () => {
    const mounts = new Map((container.volumeMounts as Json[]).map((m) => [m.mountPath as string, m.name as string]));
    const volumes = new Map((podSpec.volumes as Json[]).map((v) => [v.name as string, v]));
    for (const path of [configData.DATA_DIR, '/tmp']) {
      const volume = volumes.get(mounts.get(path)!);
      expect(volume?.emptyDir ?? volume?.persistentVolumeClaim).toBeDefined();
    }
    expect(configData.DATA_DIR).toBe(dockerEnv.get('DATA_DIR'));
  });

  it('gives shutdown its time: preStop pause + SHUTDOWN_GRACE_SECONDS fit in terminationGracePeriodSeconds', () => {
    const pause = Number((container.lifecycle?.preStop?.exec?.command as string[] | undefined)?.[1] ?? 0);
    const grace = loadConfig({ ...k8sEnv, SECRET_KEY: 'x' }).shutdownGraceMs / 1000;
    expect(pause).toBeGreaterThan(0);
    expect(podSpec.terminationGracePeriodSeconds).toBeGreaterThan(pause + grace);
  });

  it('HPA scales the gateway from two replicas on real CPU use; the PDB lets one pod go at a time', () => {
    const hpa = byKind('HorizontalPodAutoscaler')[0]!;
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'gpt4free-pool' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    // The request is what a busy pod uses (measured, see deployment.yaml), so the target is crossed
    // under load: at least 100 millicores, never the ~70m an almost idle pod reaches.
    const millicores = (cpu: string) => (cpu.endsWith('m') ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000);
    const request = millicores(container.resources.requests.cpu);
    const utilization = (hpa.spec.metrics as Json[]).find((m) => m.resource?.name === 'cpu')!.resource.target.averageUtilization as number;
    expect((request * utilization) / 100).toBeGreaterThanOrEqual(100);
    expect(utilization).toBeLessThanOrEqual(90);
    expect(millicores(container.resources.limits.cpu)).toBeGreaterThanOrEqual(request * 2);
    expect(read('deploy/kubernetes/deployment.yaml')).toMatch(/Measured on the built gateway/);
    const pdb = byKind('PodDisruptionBudget')[0]!;
    expect(selects(pdb.spec.selector.matchLabels, gateway.spec.template.metadata.labels)).toBe(true);
    expect(pdb.spec).not.toHaveProperty('minAvailable');
    expect(pdb.spec.maxUnavailable).toBe(1);
  });
});

/* ------------------------------------------------------------------ one-api's channel, made by oneapi-init */

interface SeenRequest {
  method: string;
  path: string;
  authorization?: string;
  body?: Json;
}
interface FakeChannel {
  id: number;
  name: string;
  [field: string]: unknown;
}

/**
 * A stand-in for one-api v0.6.x's admin API on a real socket, as its source has it: /api/status is
 * public; /api/channel/* needs `Authorization: Bearer <root access token>`; errors are HTTP 200 with
 * `success: false`; search matches an id or a name prefix; POST adds, PUT updates by id.
 */
async function startFakeOneApi(accessToken: string, { notReadyFor = 0 } = {}) {
  const requests: SeenRequest[] = [];
  const channels: FakeChannel[] = [{ id: 7, name: 'gpt4free-pool-old', type: 1, models: 'x' }];
  let statusCalls = 0;
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? (JSON.parse(text) as Json) : undefined;
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url!, 'http://one-api');
      const body = await readBody(req);
      requests.push({ method: req.method!, path: `${url.pathname}${url.search}`, authorization: req.headers.authorization, body });
      const answer = (data: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(data));
      if (url.pathname === '/api/status') return answer({ success: ++statusCalls > notReadyFor, message: '', data: { version: 'v0.6.10' } });
      if (!url.pathname.startsWith('/api/channel/')) return res.writeHead(404).end();
      if (req.headers.authorization?.replace('Bearer ', '') !== accessToken) return answer({ success: false, message: '无权进行此操作，access token 无效' });
      if (req.method === 'GET' && url.pathname === '/api/channel/search') {
        const keyword = url.searchParams.get('keyword') ?? '';
        return answer({ success: true, message: '', data: channels.filter((c) => String(c.id) === keyword || c.name.startsWith(keyword)) });
      }
      if (req.method === 'POST' && url.pathname === '/api/channel/') {
        channels.push({ ...body, id: channels.length + 100 } as FakeChannel);
        return answer({ success: true, message: '' });
      }
      if (req.method === 'PUT' && url.pathname === '/api/channel/') {
        const channel = channels.find((c) => c.id === body?.id);
        if (!channel) return answer({ success: false, message: 'record not found' });
        Object.assign(channel, body);
        return answer({ success: true, message: '', data: channel });
      }
      return res.writeHead(404).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, channels, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const INIT_SCRIPT = join(root, 'deploy/oneapi/oneapi-init.mjs');

/** Runs the init script as the oneapi-init service does (plain node, settings in the environment), bounded. */
function runInit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [INIT_SCRIPT], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('docker-compose.oneapi.yml: the channel is created for you (oneapi-init)', () => {
  const doc = compose('docker-compose.oneapi.yml');
  const init = doc.services['oneapi-init'] as ComposeService & { command?: string[]; restart?: string; user?: string; read_only?: boolean };
  const ACCESS = 'root-access-token';
  const POOL_KEY = 'sk-channel';
  let emu: Emulator;
  let pool: Gateway;
  let poolIds: string[];

  beforeAll(async () => {
    emu = await startEmulator({ zeroLatency: true });
    pool = await startGateway(emu, { API_KEY: POOL_KEY });
    const res = await fetch(`${pool.url}/v1/models`, { headers: { authorization: `Bearer ${POOL_KEY}` } });
    poolIds = ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
    expect(poolIds.length).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await pool?.close();
    await emu?.close();
  });

  it('pins one-api to a release and gives it the root access token the init service uses', () => {
    const oneApi = doc.services['one-api']!;
    expect(oneApi.image).toMatch(/^justsong\/one-api:v\d+\.\d+\.\d+$/);
    expect(oneApi.environment?.INITIAL_ROOT_ACCESS_TOKEN).toMatch(/^\$\{ONEAPI_ACCESS_TOKEN:\?.+\}$/);
    expect(init.environment?.ONEAPI_ACCESS_TOKEN).toMatch(/^\$\{ONEAPI_ACCESS_TOKEN:\?.+\}$/);
    expect(() => interpolate(oneApi.environment!.INITIAL_ROOT_ACCESS_TOKEN!)).toThrow(/ONEAPI_ACCESS_TOKEN is required/);
    for (const text of [read('docker-compose.oneapi.yml'), read('.env.example')]) expect(text).toContain('ONEAPI_ACCESS_TOKEN=');
  });

  it("runs the script once, with the Dockerfile's node image, after the pool is healthy and one-api started", () => {
    expect(init.image).toBe(stages[0]!.from);
    expect(init.restart).toBe('no');
    expect(init.read_only).toBe(true);
    expect(init.user).toBe('1000:1000');
    const [source, target] = init.volumes![0]!.split(':');
    expect(existsSync(join(root, source!))).toBe(true);
    expect(join(root, source!)).toBe(INIT_SCRIPT);
    expect(init.command).toEqual(['node', target]);
    expect(init.depends_on).toEqual({ 'freeapi-pool': { condition: 'service_healthy' }, 'one-api': { condition: 'service_started' } });
    const env = serviceEnv('docker-compose.oneapi.yml', init, { FREEAPI_KEY: POOL_KEY, ONEAPI_ACCESS_TOKEN: ACCESS });
    expect(env).toEqual({
      ONEAPI_URL: 'http://one-api:3000',
      ONEAPI_ACCESS_TOKEN: ACCESS,
      POOL_URL: 'http://freeapi-pool:8080',
      POOL_KEY: POOL_KEY,
      CHANNEL_NAME: 'gpt4free-pool',
    });
    // The pool's key in the channel is the pool's API_KEY.
    expect(doc.services['freeapi-pool']!.environment!.API_KEY).toMatch(/^\$\{FREEAPI_KEY:\?/);
  });

  it("waits for one-api, then adds one OpenAI channel with the pool's base URL, key and /v1/models, authenticated as root", async () => {
    const oneApi = await startFakeOneApi(ACCESS, { notReadyFor: 2 });
    try {
      const run = await runInit({ ONEAPI_URL: oneApi.url, ONEAPI_ACCESS_TOKEN: ACCESS, POOL_URL: pool.url, POOL_KEY, CHANNEL_NAME: 'gpt4free-pool' });
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expect(run.stdout).toContain(`one-api channel "gpt4free-pool" created: ${poolIds.length} models`);
      expect(oneApi.requests.filter((r) => r.path === '/api/status')).toHaveLength(3);
      const admin = oneApi.requests.filter((r) => r.path.startsWith('/api/channel/'));
      expect(admin.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/channel/search?keyword=gpt4free-pool', 'POST /api/channel/']);
      for (const r of admin) expect(r.authorization).toBe(`Bearer ${ACCESS}`);
      expect(admin[1]!.body).toEqual({ name: 'gpt4free-pool', type: 1, key: POOL_KEY, base_url: pool.url, models: poolIds.join(','), group: 'default' });
      expect(oneApi.channels.filter((c) => c.name === 'gpt4free-pool')).toHaveLength(1);
    } finally {
      await oneApi.close();
    }
  });

  it('is idempotent: run again, it updates the channel of that exact name instead of adding a second', async () => {
    const oneApi = await startFakeOneApi(ACCESS);
    try {
      const env = { ONEAPI_URL: oneApi.url, ONEAPI_ACCESS_TOKEN: ACCESS, POOL_URL: pool.url, POOL_KEY };
      expect((await runInit(env)).code).toBe(0);
      const created = oneApi.channels.find((c) => c.name === 'gpt4free-pool')!;
      created.models = 'stale';
      oneApi.requests.length = 0;
      const again = await runInit(env);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(`one-api channel "gpt4free-pool" (id ${created.id}) updated`);
      expect(oneApi.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /api/status',
        'GET /api/channel/search?keyword=gpt4free-pool',
        'PUT /api/channel/',
      ]);
      expect(oneApi.requests[2]!.authorization).toBe(`Bearer ${ACCESS}`);
      expect(oneApi.requests[2]!.body).toMatchObject({ id: created.id, name: 'gpt4free-pool', models: poolIds.join(','), key: POOL_KEY, base_url: pool.url });
      // The channel whose name only starts the same is left alone; still one channel of ours.
      expect(oneApi.channels.map((c) => c.name).sort()).toEqual(['gpt4free-pool', 'gpt4free-pool-old']);
      expect(created.models).toBe(poolIds.join(','));
    } finally {
      await oneApi.close();
    }
  });

  it('fails with one line and a non-zero exit: wrong access token (one-api says so with HTTP 200), wrong pool key, a setting missing, one-api never up', async () => {
    const oneApi = await startFakeOneApi(ACCESS);
    try {
      const base = { ONEAPI_URL: oneApi.url, ONEAPI_ACCESS_TOKEN: ACCESS, POOL_URL: pool.url, POOL_KEY };
      const wrongToken = await runInit({ ...base, ONEAPI_ACCESS_TOKEN: 'not-it' });
      expect(wrongToken.code).toBe(1);
      expect(wrongToken.stderr).toMatch(/^oneapi-init: one-api GET \/api\/channel\/search\?keyword=gpt4free-pool: 无权进行此操作，access token 无效\n$/);
      const wrongKey = await runInit({ ...base, POOL_KEY: 'sk-wrong' });
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.stderr).toMatch(/^oneapi-init: .*\/v1\/models: HTTP 401 /);
      const missing = await runInit({ ...base, ONEAPI_ACCESS_TOKEN: '' });
      expect(missing).toMatchObject({ code: 1, stderr: 'oneapi-init: ONEAPI_ACCESS_TOKEN is not set\n' });
      expect(oneApi.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    } finally {
      await oneApi.close();
    }
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const down = await runInit({ ONEAPI_URL: nobody, ONEAPI_ACCESS_TOKEN: ACCESS, POOL_URL: pool.url, POOL_KEY, INIT_TIMEOUT_SECONDS: '1' });
    expect(down).toMatchObject({ code: 1, stderr: `oneapi-init: one-api at ${nobody} is not up after 1 s (ECONNREFUSED)\n` });
  });
});
