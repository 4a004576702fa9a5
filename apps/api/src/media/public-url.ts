import type { IncomingHttpHeaders } from 'node:http';

const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The first value of a header that may arrive as a list. */
function first(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  const item = raw?.split(',')[0]?.trim();
  return item ? item : undefined;
}

/**
 * What publicBaseUrl reads of a request. With an Express request, `protocol` and `host` follow
 * `trust proxy` (TRUST_PROXY): they are X-Forwarded-Proto/X-Forwarded-Host only when the socket's
 * peer is a trusted proxy, otherwise the connection's own scheme and the Host header.
 */
export interface OriginRequest {
  headers: IncomingHttpHeaders;
  protocol?: string;
  /** Express 5: host and port, from X-Forwarded-Host when a trusted proxy sent it. */
  host?: string;
}

/**
 * Where clients reach this gateway, for URLs it hands out: PUBLIC_BASE_URL when set, otherwise the
 * request's own origin. Forwarded headers count only through a trusted proxy (see OriginRequest):
 * any client can send them, and a link built from them would point wherever that client says.
 * Values that are not a plain scheme or host are ignored, so no header turns the URL into
 * something else.
 */
export function publicBaseUrl(req: OriginRequest, configured?: string): string {
  if (configured) return configured.replace(/\/+$/, '');
  const scheme = req.protocol?.toLowerCase();
  const proto = scheme === 'https' ? 'https' : 'http';
  const host = [req.host, first(req.headers.host)].find((h) => h !== undefined && HOST.test(h)) ?? 'localhost';
  return `${proto}://${host}`;
}
