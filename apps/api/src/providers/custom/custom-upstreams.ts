import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { maskUrlCredentials, scrubSecrets } from '../../common/redact.ts';
import { ConfigError } from '../../config/app-config.ts';
import { EXTRA_SAMPLING_PARAMS, type ExtraSamplingParam } from '../provider-declaration.ts';

/** One operator-defined OpenAI-compatible upstream (Ollama, vLLM, OpenRouter, a company proxy…). */
export interface CustomUpstreamConfig {
  name: string;
  baseUrl: string;
  apiKeys: string[];
  enabled: boolean;
  proxy?: string;
  priority?: number;
  /** Who made the models it adds, for `owned_by` of models the catalog does not know. */
  ownedBy?: string;
  /** Gateway model id → upstream model id. */
  models: Record<string, string>;
  /**
   * The sampling fields beyond OpenAI's (EXTRA_SAMPLING_PARAMS) the upstream takes: vLLM, Ollama
   * and llama.cpp take top_k, min_p…, while OpenAI-like hosts refuse fields they do not know, so
   * none are sent unless listed. Absent (older stored upstreams): none.
   */
  samplingParams?: ExtraSamplingParam[];
  /** PROVIDERS_FILE upstreams are read-only in the console. */
  source?: 'file' | 'console';
}

const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,39}$/;

/**
 * Checks an upstream's `samplingParams`: a list (or a comma-separated string, as env-style files
 * write it) of EXTRA_SAMPLING_PARAMS names, duplicates dropped. Returns the names, or what is wrong
 * (naming the bad value, cut short) for the caller to report in its own way.
 */
export function parseSamplingParams(raw: unknown): { params: ExtraSamplingParam[] } | { problem: string } {
  if (raw === undefined || raw === null) return { params: [] };
  const list =
    typeof raw === 'string'
      ? raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : raw;
  if (!Array.isArray(list)) return { problem: `expected a list of ${EXTRA_SAMPLING_PARAMS.join(', ')}` };
  const known: readonly unknown[] = EXTRA_SAMPLING_PARAMS;
  const bad = list.find((name) => !known.includes(name));
  if (bad !== undefined) {
    return { problem: `${describe(bad)} is not a sampling field the gateway knows; use ${EXTRA_SAMPLING_PARAMS.join(', ')}` };
  }
  return { params: [...new Set(list as ExtraSamplingParam[])] };
}

/** A value as an error names it: a string quoted (at most 40 characters of it), anything else by its type. */
const describe = (value: unknown): string => (typeof value === 'string' ? `"${value.slice(0, 40)}"` : typeof value);

function fail(file: string, where: string, what: string): never {
  throw new ConfigError(`${file}: ${where}: ${what}`);
}

const MODEL_MAP = 'expected a map of gateway id → upstream id, or a list of ids';

/**
 * An upstream's `models`: a list of ids (each served under its own name) or a map of gateway id →
 * upstream id (an empty value: the same id). Every id is a non-empty string: anything else (an
 * object such as `{id, upstream}`, a number YAML read from an unquoted value) is refused naming
 * where it is, rather than turned into an id like "[object Object]" that no request can name.
 */
function modelMapOf(file: string, where: string, raw: unknown): Record<string, string> {
  if (typeof raw !== 'object' || raw === null) fail(file, where, MODEL_MAP);
  const models: Record<string, string> = {};
  const entries: Array<[string, unknown, string]> = Array.isArray(raw)
    ? raw.map((id: unknown, j) => [typeof id === 'string' ? id : '', id, `${where}[${j}]`])
    : Object.entries(raw).map(([id, upstream]) => [id, upstream ?? id, `${where}.${id.slice(0, 40)}`]);
  for (const [id, upstream, at] of entries) {
    if (!id.trim() || typeof upstream !== 'string' || !upstream.trim()) {
      fail(file, at, `expected a model id (a non-empty string; quote it if YAML reads it as a number), got ${describe(upstream)}; ${MODEL_MAP}`);
    }
    models[id.trim()] = upstream.trim();
  }
  if (Object.keys(models).length === 0) fail(file, where, 'list at least one model');
  return models;
}

/** Reads PROVIDERS_FILE (YAML or JSON): `upstreams: [{name, baseUrl, apiKey(s), models: {id: upstreamId}}]`. */
export function loadCustomUpstreams(file: string, reservedNames: readonly string[]): CustomUpstreamConfig[] {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    // A YAML error quotes the lines around it, which may hold a key: key-shaped text is scrubbed.
    throw new ConfigError(`${file}: cannot read: ${scrubSecrets((err as Error).message)}`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { upstreams?: unknown })?.upstreams;
  if (!Array.isArray(list)) fail(file, 'top level', 'expected `upstreams:` with a list');
  const seen = new Set(reservedNames.map((n) => n.toLowerCase()));
  return list.map((raw: unknown, i) => {
    const where = `upstreams[${i}]`;
    if (typeof raw !== 'object' || raw === null) fail(file, where, 'expected an object');
    const u = raw as Record<string, unknown>;
    const name = u.name;
    if (typeof name !== 'string' || !NAME.test(name)) fail(file, `${where}.name`, 'expected a name of letters, digits, _ . - (max 40)');
    if (seen.has(name.toLowerCase())) fail(file, `${where}.name`, `"${name}" is already used by another provider`);
    seen.add(name.toLowerCase());
    const baseUrl = u.baseUrl ?? u.base_url;
    if (typeof baseUrl !== 'string') fail(file, `${where}.baseUrl`, 'expected a URL');
    try {
      new URL(baseUrl);
    } catch {
      fail(file, `${where}.baseUrl`, `"${maskUrlCredentials(baseUrl)}" is not a URL`);
    }
    const keysRaw = u.apiKeys ?? u.api_keys ?? u.apiKey ?? u.api_key ?? [];
    const apiKeys = (Array.isArray(keysRaw) ? keysRaw : String(keysRaw).split(',')).map((k) => String(k).trim()).filter(Boolean);
    const models = modelMapOf(file, `${where}.models`, u.models ?? {});
    const proxy = u.proxy;
    if (proxy !== undefined && typeof proxy !== 'string') fail(file, `${where}.proxy`, 'expected a URL');
    const priority = u.priority;
    if (priority !== undefined && !Number.isInteger(priority)) fail(file, `${where}.priority`, 'expected an integer');
    const sampling = parseSamplingParams(u.samplingParams ?? u.sampling_params);
    if ('problem' in sampling) fail(file, `${where}.samplingParams`, sampling.problem);
    return {
      name,
      baseUrl: baseUrl.replace(/\/+$/, ''),
      apiKeys,
      enabled: u.enabled !== false,
      proxy: proxy || undefined,
      priority: priority as number | undefined,
      ownedBy: typeof u.ownedBy === 'string' ? u.ownedBy : typeof u.owned_by === 'string' ? u.owned_by : undefined,
      models,
      samplingParams: sampling.params,
    };
  });
}
