import { ENDPOINT_KINDS, FAULT_MODES, isProviderId, isRecord } from './types.ts';
import type { EndpointKind, Fault, FaultMode, ProviderId } from './types.ts';

export interface FaultQuery {
  provider: ProviderId;
  kind: EndpointKind;
  /** Model ids the request can be matched by (as sent, and normalized). */
  models: readonly string[];
  key: string | undefined;
}

interface Entry {
  fault: Fault;
  remaining: number | undefined;
}

/** Faults in insertion order; the first one that matches and has uses left applies. */
export class FaultBook {
  #entries: Entry[] = [];

  add(fault: Fault): void {
    this.#entries.push({ fault: { ...fault }, remaining: fault.times });
  }

  clear(): void {
    this.#entries = [];
  }

  list(): Fault[] {
    return this.#entries.map((e) => ({ ...e.fault, ...(e.remaining === undefined ? {} : { times: e.remaining }) }));
  }

  /** Finds the fault that would apply, without using it up. */
  find(query: FaultQuery): Fault | undefined {
    return this.#entries.find((e) => matches(e, query))?.fault;
  }

  /** Uses up one application of a fault returned by find(). */
  consume(fault: Fault): void {
    const entry = this.#entries.find((e) => e.fault === fault);
    if (!entry || entry.remaining === undefined) return;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.#entries = this.#entries.filter((e) => e !== entry);
  }

  take(query: FaultQuery): Fault | undefined {
    const fault = this.find(query);
    if (fault) this.consume(fault);
    return fault;
  }
}

function matches(entry: Entry, q: FaultQuery): boolean {
  const f = entry.fault;
  if (entry.remaining !== undefined && entry.remaining <= 0) return false;
  if (f.provider !== q.provider) return false;
  if ((f.path ?? 'chat') !== q.kind) return false;
  if (f.model !== undefined && !q.models.includes(f.model)) return false;
  if (f.key !== undefined && f.key !== q.key) return false;
  return true;
}

const NUMBER_FIELDS = ['status', 'retryAfter', 'delayMs', 'afterChunks', 'count', 'times'] as const;
const STRING_FIELDS = ['message', 'model', 'key'] as const;

/** Validates a fault received over the control API; returns an error message when invalid. */
export function parseFault(input: unknown): Fault | string {
  if (!isRecord(input)) return 'fault must be a JSON object';
  const { provider, mode, path } = input;
  if (!isProviderId(provider)) return `unknown provider: ${String(provider)}`;
  if (!isFaultMode(mode)) return `unknown mode: ${String(mode)}`;
  if (path !== undefined && !isEndpointKind(path)) return `unknown path: ${String(path)}`;
  const fault: Fault = { provider, mode, ...(path === undefined ? {} : { path }) };
  for (const name of NUMBER_FIELDS) {
    const value = input[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) return `${name} must be a number`;
    fault[name] = value;
  }
  for (const name of STRING_FIELDS) {
    const value = input[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') return `${name} must be a string`;
    fault[name] = value;
  }
  if (mode === 'status' && fault.status === undefined) return 'mode "status" needs a status';
  return fault;
}

function isFaultMode(value: unknown): value is FaultMode {
  return typeof value === 'string' && (FAULT_MODES as readonly string[]).includes(value);
}

function isEndpointKind(value: unknown): value is EndpointKind {
  return typeof value === 'string' && (ENDPOINT_KINDS as readonly string[]).includes(value);
}
