import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CONTROL_PREFIX, handleControl } from './control-api.ts';
import type { ControlTarget } from './control-api.ts';
import { FaultBook } from './faults.ts';
import { RateLimitBook } from './rate-limits.ts';
import { sendJson } from './http-io.ts';
import { FileStore, FILES_PREFIX, handleFileRequest } from './media-wire.ts';
import { loadDefaultModelLists } from './model-lists.ts';
import type { ModelLists } from './model-lists.ts';
import { handleProviderRequest, handleUnknownEndpoint } from './provider-handler.ts';
import type { ProviderState } from './provider-handler.ts';
import { PROFILES, profileFor } from './providers.ts';
import { DEFAULT_FRAMING } from './sse.ts';
import type { Emulator, EmulatorOptions, Framing, Pacing, PrefillMode, ProviderId, RecordedRequest } from './types.ts';

export type { Emulator, EmulatorOptions, EndpointKind, Fault, FaultMode, Framing, Pacing, PrefillMode, ProviderId, RecordedRequest } from './types.ts';
export { ENDPOINT_KINDS, FAULT_MODES, PROVIDER_IDS } from './types.ts';
export { imageColor, hexColor, inspectImage } from './image-codec.ts';
export type { ImageFormat, ImageInfo } from './image-codec.ts';
export { AUDIO_CONTENT_TYPES, sniffAudio, speechDurationMs } from './audio-codec.ts';
export type { AudioFormat } from './audio-codec.ts';
export { SPEECH_VOICES } from './media-wire.ts';
export { isImageModel } from './providers.ts';

const DEFAULT_CHUNKS = 5;
/**
 * Requests kept for requests(), newest last. A bound: the benchmark's emulator serves millions, and
 * a log of all of them grew its heap by hundreds of megabytes, whose collections (concurrent
 * marking on the machine's cores, pauses of tens of ms) showed up as the tail of whatever it served.
 */
const DEFAULT_RECORD_LIMIT = 10_000;

/** Starts one loopback server that speaks every provider's wire format under its own path. */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const state = new EmulatorState(loadDefaultModelLists(), startupPacing(opts), Math.max(1, Math.floor(opts.recordLimit ?? DEFAULT_RECORD_LIMIT)));
  const closing = new AbortController();
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer({ noDelay: true }, (req, res) => {
    void route(req, res, state, closing.signal, emulator);
  });
  server.on('connection', (socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server, opts.port ?? 0, opts.host ?? '127.0.0.1');
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;

  const emulator: ControlTarget = {
    url,
    baseUrl: (provider) => `${url}${PROFILES[provider].prefix}`,
    addFault: (fault) => state.faults.add(fault),
    clearFaults: () => state.faults.clear(),
    faults: () => state.faults.list(),
    setModels: (provider, ids) => state.setModels(provider, ids),
    setFraming: (provider, framing) => state.setFraming(provider, framing),
    setPacing: (pacing) => state.setPacing(pacing),
    setPrefill: (provider, mode) => state.setPrefill(provider, mode),
    setSamplingAccepts: (provider, fields) => state.setSamplingAccepts(provider, fields),
    setRateLimit: (limit) => state.rateLimits.set(limit),
    clearRateLimits: () => state.rateLimits.clear(),
    requests: (provider) => state.recorded(provider),
    connectionsAccepted: () => accepted,
    reset: () => state.reset(),
    close: async () => {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await closed;
    },
  };
  return emulator;
}

function startupPacing(opts: EmulatorOptions): Pacing {
  return {
    chunks: Math.max(1, Math.floor(opts.chunks ?? DEFAULT_CHUNKS)),
    chunkDelayMs: opts.zeroLatency ? 0 : Math.max(0, opts.chunkDelayMs ?? 0),
  };
}

class EmulatorState implements ProviderState {
  readonly faults = new FaultBook();
  readonly files = new FileStore();
  readonly rateLimits = new RateLimitBook();
  #defaults: ModelLists;
  #startupPacing: Pacing;
  #models: Map<ProviderId, readonly string[]> = new Map();
  #framing: Map<ProviderId, Framing> = new Map();
  #pacing: Pacing;
  #prefill: Map<ProviderId, PrefillMode> = new Map();
  #samplingAccepts: Map<ProviderId, readonly string[]> = new Map();
  #requests: RecordedRequest[] = [];

  readonly recordLimit: number;

  constructor(defaults: ModelLists, pacing: Pacing, recordLimit: number) {
    this.recordLimit = recordLimit;
    this.#defaults = defaults;
    this.#startupPacing = pacing;
    this.#pacing = { ...pacing };
  }

  models(provider: ProviderId): readonly string[] {
    return this.#models.get(provider) ?? this.#defaults[provider];
  }

  setModels(provider: ProviderId, ids: string[]): void {
    this.#models.set(provider, [...ids]);
  }

  framing(provider: ProviderId): Framing {
    return this.#framing.get(provider) ?? DEFAULT_FRAMING;
  }

  setFraming(provider: ProviderId, framing: Partial<Framing>): void {
    this.#framing.set(provider, { ...this.framing(provider), ...framing });
  }

  pacing(): Pacing {
    return this.#pacing;
  }

  prefill(provider: ProviderId): PrefillMode {
    return this.#prefill.get(provider) ?? 'ignore';
  }

  setPrefill(provider: ProviderId, mode: PrefillMode): void {
    this.#prefill.set(provider, mode);
  }

  samplingAccepts(provider: ProviderId): readonly string[] | undefined {
    return this.#samplingAccepts.get(provider);
  }

  setSamplingAccepts(provider: ProviderId, fields: readonly string[]): void {
    this.#samplingAccepts.set(provider, [...fields]);
  }

  setPacing(pacing: Partial<Pacing>): void {
    const next = { ...this.#pacing, ...pacing };
    this.#pacing = { chunks: Math.max(1, Math.floor(next.chunks)), chunkDelayMs: Math.max(0, next.chunkDelayMs) };
  }

  record(request: RecordedRequest): void {
    this.#requests.push(request);
    // Trimmed in steps of a whole limit, so that recording stays O(1) per request.
    if (this.#requests.length >= this.recordLimit * 2) this.#requests = this.#requests.slice(-this.recordLimit);
  }

  recorded(provider?: ProviderId): RecordedRequest[] {
    return this.#requests
      .slice(-this.recordLimit)
      .filter((r) => provider === undefined || r.provider === provider)
      .map((r) => structuredClone(r));
  }

  reset(): void {
    this.faults.clear();
    this.#models.clear();
    this.#framing.clear();
    this.#prefill.clear();
    this.#samplingAccepts.clear();
    this.#requests = [];
    this.files.clear();
    this.rateLimits.clear();
    this.#pacing = { ...this.#startupPacing };
  }
}

async function route(req: IncomingMessage, res: ServerResponse, state: EmulatorState, closing: AbortSignal, control: ControlTarget): Promise<void> {
  const aborted = new AbortController();
  res.on('close', () => aborted.abort());
  const signal = AbortSignal.any([closing, aborted.signal]);
  try {
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (url.pathname.startsWith(`${CONTROL_PREFIX}/`)) return await handleControl(req, res, url, control);
    if (url.pathname.startsWith(FILES_PREFIX)) return handleFileRequest(req, res, url.pathname, state.files);
    const match = profileFor(url.pathname);
    if (!match) {
      req.resume();
      return sendJson(res, 404, { error: `no emulated endpoint for ${req.method} ${url.pathname}` });
    }
    const providerRoute = match.profile.route(req.method ?? 'GET', match.rest, url.searchParams);
    if (!providerRoute) return await handleUnknownEndpoint(req, res, match.profile, state);
    await handleProviderRequest({ req, res, profile: match.profile, route: providerRoute, signal, state });
  } catch (error) {
    // Client aborts and close() land here; anything else becomes a visible 500.
    if (signal.aborted || res.destroyed) return;
    if (!res.headersSent) sendJson(res, 500, { error: `emulator failure: ${String(error)}` });
    else res.destroy();
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
