import type { IncomingHttpHeaders } from 'node:http';

const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The first value of a header that proxies may send as a comma-separated list. */
function first(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  const item = raw?.split(',')[0]?.trim();
  return item ? item : undefined;
}

/**
 * Where clients reach this gateway, for URLs it hands out: PUBLIC_BASE_URL when set, otherwise
 * the request's own origin, as a reverse proxy reports it (`X-Forwarded-Proto`/`X-Forwarded-Host`).
 * Header values that are not a plain scheme or host are ignored, so a forged header cannot turn
 * the URL into something else.
 */
export function publicBaseUrl(req: { headers: IncomingHttpHeaders; protocol?: string }, configured?: string): string {
  if (configured) return configured.replace(/\/+$/, '');
  const forwardedProto = first(req.headers['x-forwarded-proto'])?.toLowerCase();
  const proto = forwardedProto === 'http' || forwardedProto === 'https' ? forwardedProto : req.protocol === 'https' ? 'https' : 'http';
  const forwardedHost = first(req.headers['x-forwarded-host']);
  const host = [forwardedHost, first(req.headers.host)].find((h) => h !== undefined && HOST.test(h)) ?? 'localhost';
  return `${proto}://${host}`;
}
