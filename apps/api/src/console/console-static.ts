import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/**
 * Paths that belong to the API. The console never answers them, so an unknown `/v1/…` or
 * `/api/…` still gets the API's JSON 404 envelope; `/docs` covers Swagger's `/docs-json` too.
 */
const API_PATH = /^\/(?:v1|api|health|metrics)(?:\/|$)|^\/docs/i;

/**
 * Angular's output hashing (`main-7RSEUFAK.js`, `chunk-B-XAC6d2.js`, `styles-L5JWQIDY.css`,
 * `media/roboto-latin-400-normal-LOX3CHMS.woff2`): such a file never changes, so it is cached for good.
 */
const HASHED_FILE = /(?:^|[/\\])(?:(?:main|chunk|styles|polyfills|worker)-[\w-]{8}\.(?:js|css)|media[/\\][\w.-]+-[A-Z0-9]{8}\.\w+)$/;

/**
 * The copies scripts/precompress.mjs writes next to the build's text files, best first. A request
 * gets one its Accept-Encoding allows, or the file as it is.
 */
const ENCODINGS = [
  { name: 'br', suffix: '.br' },
  { name: 'gzip', suffix: '.gz' },
] as const;
type Encoding = (typeof ENCODINGS)[number];

/** Accept-Encoding's codings with a non-zero q (`br;q=0` refuses br); `*` stands for any other. */
export function acceptedEncodings(header: string | undefined): Set<string> {
  const accepted = new Set<string>();
  for (const part of (header ?? '').slice(0, 512).split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (coding && (q === undefined || Number(q) > 0)) accepted.add(coding);
  }
  if (accepted.has('*')) ENCODINGS.forEach((e) => accepted.add(e.name));
  return accepted;
}

/**
 * The precompressed copy of `/path` under `dir` to send, if the client takes it and it exists.
 * Paths that would leave `dir`, or do not decode, get none (express.static answers them as usual).
 */
async function precompressed(dir: string, path: string, acceptEncoding: string | undefined): Promise<Encoding | undefined> {
  const accepted = acceptedEncodings(acceptEncoding);
  const candidates = ENCODINGS.filter((e) => accepted.has(e.name));
  if (!candidates.length || path.endsWith('/')) return undefined;
  let file: string;
  try {
    file = resolve(dir, `.${decodeURIComponent(path)}`);
  } catch {
    return undefined;
  }
  if (!file.startsWith(dir + sep) || file.includes('\0')) return undefined;
  for (const encoding of candidates) {
    const found = await stat(file + encoding.suffix).then(
      (s) => s.isFile(),
      () => false,
    );
    if (found) return encoding;
  }
  return undefined;
}

/**
 * Everything the console loads comes from this server: the browser refuses anything else
 * (fonts, icons, scripts and API calls are all same-origin; no CDN, works offline and in China).
 * Angular adds component styles as <style> elements, hence 'unsafe-inline' for styles only.
 * blob: URLs are the console's own: generated images, and the audio clip the playground plays
 * back before transcribing it.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

/**
 * Where `ng build` (apps/admin/angular.json, outputPath ../../dist/admin) writes the console:
 * `dist/admin/browser`. Resolved from this file, so it works from the build
 * (dist/apps/api/src/console → dist/admin/browser) and from the sources under Jest
 * (apps/api/src/console → dist/admin/browser), wherever the checkout or image puts the project.
 */
export function consoleDirCandidates(): string[] {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return [resolve(here, '../../../../admin/browser'), resolve(here, '../../../../dist/admin/browser')];
}

const NOT_BUILT = `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>GPT4Free Pool</title>
<body style="font-family:system-ui,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.6">
<h1>管理控制台尚未构建</h1><p>API 正常运行（<a href="/health">/health</a>、<code>/v1</code>）。运行 <code>npm run build</code> 构建控制台后刷新本页。</p>
<p lang="en">The admin console has not been built yet: run <code>npm run build</code>, then reload.</p></body></html>`;

/** Browsers navigating send `Accept: text/html`; scripts, fonts, fetch() and curl do not. */
const wantsHtml = (req: Request) => (req.headers.accept ?? '').includes('text/html');

/**
 * Serves the console's static files, and its index.html for any other page the browser navigates
 * to (the SPA fallback), leaving every API path to the API. `dirs` are tried in order; the first
 * holding an index.html is used, looked up again while there is none (so a console built while
 * the server runs appears without a restart). Without a build, pages get a 503 that says how to
 * build it, and everything else falls through to the API (a JSON 404).
 */
export function consoleStatic(dirs: string[] = consoleDirCandidates()): RequestHandler {
  let root: string | undefined;
  let serve: RequestHandler | undefined;
  const locate = (): string | undefined => {
    if (root) return root;
    const found = dirs.find((d) => existsSync(join(d, 'index.html')));
    if (found) {
      root = resolve(found);
      serve = express.static(root, {
        index: false,
        redirect: false,
        dotfiles: 'ignore',
        fallthrough: true,
        setHeaders: (res, path) => {
          // A precompressed copy (`main-….js.br`) is labelled as the file it encodes.
          const encoding = ENCODINGS.find((e) => e.name === res.locals['consoleEncoding']);
          const file = encoding ? path.slice(0, -encoding.suffix.length) : path;
          if (encoding) {
            res.setHeader('content-encoding', encoding.name);
            res.type(extname(file));
          }
          res.setHeader('vary', 'Accept-Encoding');
          res.setHeader('x-content-type-options', 'nosniff');
          res.setHeader('cache-control', HASHED_FILE.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache');
        },
      });
    }
    return root;
  };

  const notBuilt = (res: Response) => {
    res.status(503).type('html').setHeader('cache-control', 'no-store');
    res.send(NOT_BUILT);
  };

  const sendIndex = (dir: string, res: Response, next: NextFunction) => {
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('content-security-policy', CONSOLE_CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    res.sendFile('index.html', { root: dir, dotfiles: 'deny' }, (err?: NodeJS.ErrnoException) => {
      if (!err) return;
      // The build went away (`nest build` empties dist/): look for it again from the next request on.
      if (err.code === 'ENOENT' && !res.headersSent) {
        root = undefined;
        serve = undefined;
        res.removeHeader('content-security-policy');
        return notBuilt(res);
      }
      next(err);
    });
  };

  return (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || API_PATH.test(req.path)) return next();
    const dir = locate();
    if (!dir) return wantsHtml(req) ? notBuilt(res) : next();
    // `/` and `/index.html` get the same headers as every other page of the console.
    if (req.path === '/' || req.path === '/index.html') return sendIndex(dir, res, next);
    const fallback = () => (wantsHtml(req) ? sendIndex(dir, res, next) : next());
    void precompressed(dir, req.path, req.headers['accept-encoding']).then((encoding) => {
      if (!serve) return fallback();
      if (!encoding) return serve(req, res, fallback);
      // Served as the copy; if it went away meanwhile, the request goes on with its own URL.
      const url = req.url;
      res.locals['consoleEncoding'] = encoding.name;
      req.url = req.path + encoding.suffix + url.slice(req.path.length);
      serve(req, res, () => {
        req.url = url;
        delete res.locals['consoleEncoding'];
        fallback();
      });
    }, next);
  };
}
