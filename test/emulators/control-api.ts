import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseFault } from './faults.ts';
import { parseJsonBody, readBody, sendJson } from './http-io.ts';
import { parseRateLimit } from './rate-limits.ts';
import { isProviderId, isRecord, PREFILL_MODES } from './types.ts';
import type { Emulator, Fault, Framing, Pacing, PrefillMode, ProviderId } from './types.ts';

export const CONTROL_PREFIX = '/__emulator';

export interface ControlTarget extends Emulator {
  faults(): Fault[];
}

type Result = { status: number; body: unknown };

const ok: Result = { status: 200, body: { ok: true } };
const invalid = (message: string): Result => ({ status: 400, body: { error: message } });

/** Lets other processes (benchmarks, browser tests) steer an emulator over HTTP. */
export async function handleControl(req: IncomingMessage, res: ServerResponse, url: URL, target: ControlTarget): Promise<void> {
  const parsed = parseJsonBody(await readBody(req));
  const result = parsed.ok ? dispatch(req.method ?? 'GET', url, parsed.value, target) : invalid('body is not JSON');
  sendJson(res, result.status, result.body);
}

function dispatch(method: string, url: URL, body: unknown, target: ControlTarget): Result {
  const action = `${method} ${url.pathname.slice(CONTROL_PREFIX.length)}`;
  switch (action) {
    case 'GET /health':
      return ok;
    case 'GET /faults':
      return { status: 200, body: target.faults() };
    case 'POST /faults':
      return addFault(body, target);
    case 'DELETE /faults':
      target.clearFaults();
      return ok;
    case 'POST /models':
      return setModels(body, target);
    case 'POST /framing':
      return setFraming(body, target);
    case 'POST /pacing':
      return setPacing(body, target);
    case 'POST /prefill':
      return setPrefill(body, target);
    case 'POST /sampling':
      return setSamplingAccepts(body, target);
    case 'POST /ratelimits': {
      const limit = parseRateLimit(body);
      if (typeof limit === 'string') return invalid(limit);
      target.setRateLimit(limit);
      return ok;
    }
    case 'DELETE /ratelimits':
      target.clearRateLimits();
      return ok;
    case 'GET /requests':
      return requests(url, target);
    case 'POST /reset':
      target.reset();
      return ok;
    default:
      return { status: 404, body: { error: `no control action ${action}` } };
  }
}

function addFault(body: unknown, target: ControlTarget): Result {
  const fault = parseFault(body);
  if (typeof fault === 'string') return invalid(fault);
  target.addFault(fault);
  return ok;
}

/** `{ provider, [field]: string[] }`, or what is wrong with it. */
function providerStrings(body: unknown, field: string): { provider: ProviderId; values: string[] } | string {
  if (!isRecord(body) || !isProviderId(body.provider)) return 'provider is missing or unknown';
  const values = body[field];
  if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) return `${field} must be an array of strings`;
  return { provider: body.provider, values };
}

function setModels(body: unknown, target: ControlTarget): Result {
  const parsed = providerStrings(body, 'ids');
  if (typeof parsed === 'string') return invalid(parsed);
  target.setModels(parsed.provider, parsed.values);
  return ok;
}

function setFraming(body: unknown, target: ControlTarget): Result {
  if (!isRecord(body) || !isProviderId(body.provider)) return invalid('provider is missing or unknown');
  const framing: Partial<Framing> = {};
  for (const flag of ['crlf', 'noSpace', 'comments', 'multiline'] as const) {
    const value = body[flag];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') return invalid(`${flag} must be a boolean`);
    framing[flag] = value;
  }
  if (body.splitBytes !== undefined) {
    if (typeof body.splitBytes !== 'number' || body.splitBytes < 0) return invalid('splitBytes must be a number >= 0');
    framing.splitBytes = body.splitBytes;
  }
  target.setFraming(body.provider, framing);
  return ok;
}

function setPacing(body: unknown, target: ControlTarget): Result {
  if (!isRecord(body)) return invalid('body must be an object');
  const pacing: Partial<Pacing> = {};
  for (const name of ['chunks', 'chunkDelayMs'] as const) {
    const value = body[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || value < 0) return invalid(`${name} must be a number >= 0`);
    pacing[name] = value;
  }
  target.setPacing(pacing);
  return ok;
}

function setPrefill(body: unknown, target: ControlTarget): Result {
  if (!isRecord(body) || !isProviderId(body.provider)) return invalid('provider is missing or unknown');
  if (!(PREFILL_MODES as readonly unknown[]).includes(body.mode)) return invalid(`mode must be one of ${PREFILL_MODES.join(', ')}`);
  target.setPrefill(body.provider, body.mode as PrefillMode);
  return ok;
}

function setSamplingAccepts(body: unknown, target: ControlTarget): Result {
  const parsed = providerStrings(body, 'accepts');
  if (typeof parsed === 'string') return invalid(parsed);
  target.setSamplingAccepts(parsed.provider, parsed.values);
  return ok;
}

function requests(url: URL, target: ControlTarget): Result {
  const provider = url.searchParams.get('provider');
  if (provider === null) return { status: 200, body: target.requests() };
  if (!isProviderId(provider)) return invalid(`unknown provider: ${provider}`);
  return { status: 200, body: target.requests(provider) };
}
