import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, type Server, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import express from 'express';
import { CONSOLE_CSP, acceptedEncodings, consoleDirCandidates, consoleStatic } from './console-static.ts';

const INDEX = '<!doctype html><title>console</title><app-root></app-root>';
const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('consoleStatic', () => {
  let dir: string;
  let server: Server;
  let base: string;

  /** An express app like the gateway's: the console handler, then "the API" (JSON 404 for anything else). */
  async function start(dirs: string[]): Promise<void> {
    const app = express();
    app.use(consoleStatic(dirs));
    app.get('/v1/models', (_req, res) => void res.json({ object: 'list', data: [] }));
    app.use((req, res) => void res.status(404).json({ error: { message: `Unknown request URL: ${req.method} ${req.path}`, code: 'unknown_url' } }));
    server = await new Promise<Server>((ok) => {
      const s = app.listen(0, '127.0.0.1', () => ok(s));
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  function build(at: string): void {
    mkdirSync(join(at, 'media'), { recursive: true });
    writeFileSync(join(at, 'index.html'), INDEX);
    writeFileSync(join(at, 'main-7RSEUFAK.js'), 'console.log(1)');
    writeFileSync(join(at, 'chunk-B-XAC6d2.js'), 'export {}');
    writeFileSync(join(at, 'media', 'roboto-latin-400-normal-LOX3CHMS.woff2'), 'font');
    writeFileSync(join(at, 'theme-init.js'), '// theme');
  }

  /** A request as sent (no Accept-Encoding unless given) and the body as received, still encoded. */
  function raw(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    return new Promise((ok, fail) => {
      get(base + path, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', fail);
    });
  }

  /** A bundle with the copies scripts/precompress.mjs writes: different bytes, so a test sees which was sent. */
  const BUNDLE = `export const text = ${JSON.stringify('console '.repeat(400))};`;
  function precompressedBuild(at: string, encodings: ('br' | 'gz')[] = ['br', 'gz']): void {
    build(at);
    writeFileSync(join(at, 'main-7RSEUFAK.js'), BUNDLE);
    if (encodings.includes('br')) writeFileSync(join(at, 'main-7RSEUFAK.js.br'), brotliCompressSync(BUNDLE));
    if (encodings.includes('gz')) writeFileSync(join(at, 'main-7RSEUFAK.js.gz'), gzipSync(BUNDLE));
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'g4f-console-'));
  });
  afterEach(async () => {
    await new Promise((ok) => server.close(ok));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html for pages, with no-cache and the CSP', async () => {
    build(dir);
    await start([dir]);
    for (const path of ['/', '/index.html', '/dashboard', '/models/gpt-4.1', '/login?returnUrl=%2Fkeys']) {
      const res = await fetch(base + path, { headers: HTML });
      expect([path, res.status, await res.text()]).toEqual([path, 200, INDEX]);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    }
  });

  it('never answers the API’s paths, even for a browser', async () => {
    build(dir);
    await start([dir]);
    for (const path of ['/v1', '/v1/nope', '/api', '/api/stats', '/API/x', '/health', '/health/ready', '/metrics', '/docs', '/docs-json', '/docs/x']) {
      const res = await fetch(base + path, { headers: HTML });
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.headers.get('content-type')).toContain('application/json');
    }
    expect((await fetch(`${base}/v1/models`, { headers: HTML })).status).toBe(200);
    // Paths that merely start like an API path are the console's.
    expect((await fetch(`${base}/api-docs`, { headers: HTML })).status).toBe(200);
    expect((await fetch(`${base}/v1beta`, { headers: HTML })).status).toBe(200);
  });

  it('serves files; hashed ones for good; a missing file or a non-browser request falls through', async () => {
    build(dir);
    await start([dir]);
    for (const file of ['/main-7RSEUFAK.js', '/chunk-B-XAC6d2.js', '/media/roboto-latin-400-normal-LOX3CHMS.woff2']) {
      const res = await fetch(base + file);
      expect([file, res.status, res.headers.get('cache-control')]).toEqual([file, 200, 'public, max-age=31536000, immutable']);
    }
    const plain = await fetch(`${base}/theme-init.js`);
    expect(plain.headers.get('cache-control')).toBe('no-cache');
    expect(plain.headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${base}/chunk-GONE1234.js`)).status).toBe(404);
    expect((await fetch(`${base}/dashboard`, { headers: { accept: '*/*' } })).status).toBe(404);
    expect((await fetch(`${base}/dashboard`, { method: 'POST', headers: HTML })).status).toBe(404);
  });

  it('sends the brotli or gzip copy the request accepts, labelled as the file, with Vary', async () => {
    precompressedBuild(dir);
    await start([dir]);
    const cases: [string | undefined, string | undefined, (b: Buffer) => Buffer][] = [
      ['gzip, deflate, br, zstd', 'br', brotliDecompressSync],
      ['br;q=0, gzip', 'gzip', gunzipSync],
      ['gzip', 'gzip', gunzipSync],
      ['*', 'br', brotliDecompressSync],
      ['identity', undefined, (b) => b],
      [undefined, undefined, (b) => b],
    ];
    for (const [accept, encoding, decode] of cases) {
      const res = await raw('/main-7RSEUFAK.js', accept ? { 'accept-encoding': accept } : {});
      expect([accept, res.status, res.headers['content-encoding']]).toEqual([accept, 200, encoding]);
      expect(decode(res.body).toString()).toBe(BUNDLE);
      expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(res.headers['content-length']).toBe(String(res.body.length));
      expect(res.headers['vary']).toBe('Accept-Encoding');
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    }
    // The copies have their own validators: a cache never answers one encoding with the other's.
    const br = await raw('/main-7RSEUFAK.js', { 'accept-encoding': 'br' });
    const plain = await raw('/main-7RSEUFAK.js');
    expect(br.headers.etag).not.toBe(plain.headers.etag);
    expect((await raw('/main-7RSEUFAK.js', { 'accept-encoding': 'br', 'if-none-match': br.headers.etag! })).status).toBe(304);
    // HEAD: the headers of the copy, no body.
    const head = await fetch(`${base}/main-7RSEUFAK.js`, { method: 'HEAD', headers: { 'accept-encoding': 'br' } });
    expect([head.status, head.headers.get('content-encoding')]).toEqual([200, 'br']);
  });

  it('falls back to what exists: gzip without a brotli copy, the file itself without either', async () => {
    precompressedBuild(dir, ['gz']);
    await start([dir]);
    const res = await raw('/main-7RSEUFAK.js', { 'accept-encoding': 'br, gzip' });
    expect([res.headers['content-encoding'], gunzipSync(res.body).toString()]).toEqual(['gzip', BUNDLE]);
    const chunk = await raw('/chunk-B-XAC6d2.js', { 'accept-encoding': 'br, gzip' });
    expect([chunk.status, chunk.headers['content-encoding'], chunk.body.toString()]).toEqual([200, undefined, 'export {}']);
    expect(chunk.headers['vary']).toBe('Accept-Encoding');
    // Pages are still the console's index.html, and a missing file still falls through.
    const page = await raw('/dashboard', { ...HTML, 'accept-encoding': 'br, gzip' });
    expect([page.status, page.body.toString()]).toEqual([200, INDEX]);
    expect((await raw('/chunk-GONE1234.js', { 'accept-encoding': 'br' })).status).toBe(404);
  });

  it('never looks outside the build for a copy, whatever the path', async () => {
    const outside = join(dir, 'secret.txt');
    writeFileSync(outside, 'TOP-SECRET');
    writeFileSync(`${outside}.br`, brotliCompressSync('TOP-SECRET'));
    const inner = join(dir, 'build');
    precompressedBuild(inner);
    await start([inner]);
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%E0%A4%A', '/main-7RSEUFAK.js%00', '/media/']) {
      const res = await raw(path, { 'accept-encoding': 'br' });
      expect([path, res.status === 404 || res.status === 400, res.headers['content-encoding']]).toEqual([path, true, undefined]);
      expect(res.body.toString()).not.toContain('TOP-SECRET');
    }
    expect((await raw('/main-7RSEUFAK.js', { 'accept-encoding': 'br' })).headers['content-encoding']).toBe('br');
  });

  it('without a build: says how to build it, picks the build up once it exists, and copes with it going away', async () => {
    const later = join(dir, 'later');
    await start([join(dir, 'missing'), later]);
    const before = await fetch(`${base}/dashboard`, { headers: HTML });
    expect(before.status).toBe(503);
    expect(await before.text()).toContain('npm run build');
    expect((await fetch(`${base}/main-7RSEUFAK.js`)).status).toBe(404);

    build(later);
    expect(await (await fetch(`${base}/dashboard`, { headers: HTML })).text()).toBe(INDEX);

    rmSync(later, { recursive: true });
    expect((await fetch(`${base}/dashboard`, { headers: HTML })).status).toBe(503);
    build(later);
    expect((await fetch(`${base}/dashboard`, { headers: HTML })).status).toBe(200);
  });

  it('finds dist/admin/browser from the build (dist/apps/api/src/console) and from the sources', () => {
    const root = resolve(import.meta.dirname, '../../../..');
    expect(consoleDirCandidates()).toContain(join(root, 'dist/admin/browser'));
    // From dist/apps/api/src/console, four levels up is dist/: the first candidate is dist/admin/browser.
    expect(consoleDirCandidates()[0]).toBe(resolve(import.meta.dirname, '../../../../admin/browser'));
  });
});

describe('consoleStatic compression', () => {
  it('reads Accept-Encoding: codings with q > 0, any for *', () => {
    expect([...acceptedEncodings('gzip, deflate, br, zstd')]).toEqual(['gzip', 'deflate', 'br', 'zstd']);
    expect([...acceptedEncodings('br;q=0, gzip;q=0.5')]).toEqual(['gzip']);
    expect([...acceptedEncodings('GZIP;Q=1.0')]).toEqual(['gzip']);
    expect(acceptedEncodings('*').has('br')).toBe(true);
    expect(acceptedEncodings(undefined).size).toBe(0);
    expect(acceptedEncodings('identity').has('gzip')).toBe(false);
    // A hostile header is cut, not parsed in full.
    expect(acceptedEncodings('x,'.repeat(100_000)).size).toBe(1);
  });
});
