import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import express from 'express';
import { CONSOLE_CSP, consoleDirCandidates, consoleStatic } from './console-static.ts';

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
