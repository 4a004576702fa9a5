import type { IncomingMessage, ServerResponse } from 'node:http';
import { planAnswer } from './answers.ts';
import type { AnswerPlan } from './answers.ts';
import { asOpenAiTools, cloudflareResult, cloudflareSchemaError, cloudflareStream } from './cloudflare-wire.ts';
import type { FaultBook } from './faults.ts';
import type { RateLimitBook } from './rate-limits.ts';
import { bearerKey, cutConnection, parseJsonBody, readBytes, sendJson, sleep, writeAsync } from './http-io.ts';
import type { ParsedBody } from './http-io.ts';
import { answerEmbeddings, embeddingFaultShape } from './embedding-wire.ts';
import { answerHostile, isHostileMode } from './hostile.ts';
import { answerMedia, mediaFaultShape } from './media-wire.ts';
import type { FileStore, MediaReply } from './media-wire.ts';
import { newMeta, openAiCompletion, openAiStream } from './openai-wire.ts';
import { straySamplingError } from './providers.ts';
import type { ErrorSpec, ProviderProfile, Route } from './providers.ts';
import { encodeEvent, preamble, StreamWriter } from './sse.ts';
import { answerTranscription, transcriptionFaultShape } from './transcription-wire.ts';
import type { StreamStep } from './sse.ts';
import { isRecord } from './types.ts';
import type { Fault, Framing, Pacing, PrefillMode, ProviderId, RecordedRequest } from './types.ts';

/** What a provider request needs from the emulator's mutable state. */
export interface ProviderState {
  faults: FaultBook;
  models(provider: ProviderId): readonly string[];
  framing(provider: ProviderId): Framing;
  pacing(): Pacing;
  prefill(provider: ProviderId): PrefillMode;
  /** The sampling fields a strict provider takes now, when set at run time (setSamplingAccepts). */
  samplingAccepts(provider: ProviderId): readonly string[] | undefined;
  record(request: RecordedRequest): void;
  /** Images Together serves by URL. */
  files: FileStore;
  /** Per-key request budgets (setRateLimit). */
  rateLimits: RateLimitBook;
}

interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  profile: ProviderProfile;
  route: Route;
  signal: AbortSignal;
  state: ProviderState;
}

/** Faults applied inside an answer's stream rather than instead of it. */
const STREAM_FAULTS = new Set<Fault['mode']>(['midStreamCut', 'midStreamStall', 'noDone', 'malformedEvents']);

const CHALLENGE_PAGE = '<!DOCTYPE html><html><body>Just a moment...</body></html>';
const DEFAULT_CUT_AFTER = 2;
const DEFAULT_SLOW_FIRST_BYTE_MS = 1000;
/** Mistral's words for a trailing assistant message it will not continue. */
const PREFILL_REJECTED = 'Expected last role User or Tool (or Assistant with prefix True) for serving but got assistant';

/** How a stream is broken after some content: the connection cut, or left open and silent. */
interface StreamBreak {
  after: number;
  how: 'cut' | 'stall';
}

/** The text of a trailing assistant message (a prefill), if the conversation ends with one. */
function trailingAssistant(body: Record<string, unknown>): string | undefined {
  const last = Array.isArray(body.messages) ? body.messages.at(-1) : undefined;
  return isRecord(last) && last.role === 'assistant' && typeof last.content === 'string' ? last.content : undefined;
}

export async function handleProviderRequest(ctx: RequestContext): Promise<void> {
  const { req, res, profile, route, state } = ctx;
  const { parsed, raw } = await readAndRecord(req, res, profile, state);

  const body = parsed.ok && isRecord(parsed.value) ? parsed.value : {};
  const key = bearerKey(req);
  const model = route.model ?? (typeof body.model === 'string' ? body.model : undefined);
  const stream = route.kind === 'chat' && body.stream === true;
  const fault = state.faults.find({
    provider: profile.id,
    kind: route.kind,
    models: model === undefined ? [] : [model, profile.listedId(model)],
    key,
  });

  if (fault && !STREAM_FAULTS.has(fault.mode)) {
    state.faults.consume(fault);
    if (fault.mode !== 'slowFirstByte') return applyTerminalFault(ctx, fault, stream, parsed);
    await sleep(fault.delayMs ?? DEFAULT_SLOW_FIRST_BYTE_MS, ctx.signal);
  }

  const error = authError(profile, key) ?? (route.kind === 'chat' ? requestError(ctx, parsed, body, model) : undefined);
  if (error) return sendError(res, profile, error);
  // A budget counts what got past authentication; reading the model list is free.
  const budget = route.kind === 'models' ? undefined : state.rateLimits.take(profile.id, key, Date.now());
  for (const [name, value] of Object.entries(budget?.headers ?? {})) res.setHeader(name, value);
  if (budget?.refuse) {
    const { status, message } = budget.refuse;
    return sendError(res, profile, { status, message: message ?? profile.defaultMessage(status) });
  }
  const prefillMode = profile.format === 'openai' && route.kind === 'chat' ? state.prefill(profile.id) : 'ignore';
  const prefill = prefillMode === 'ignore' ? undefined : trailingAssistant(body);
  if (prefill !== undefined && prefillMode === 'reject') return sendError(res, profile, { status: 400, message: PREFILL_REJECTED });

  let media: MediaReply | undefined;
  if (route.kind === 'embedding' || route.kind === 'transcription') {
    const models = state.models(profile.id);
    const result =
      route.kind === 'embedding'
        ? answerEmbeddings({ profile, route, parsed, models })
        : answerTranscription({ profile, route, headers: req.headers, raw, models });
    if ('error' in result) return sendError(res, profile, result.error);
    media = result.reply;
  } else if (route.kind === 'image' || route.kind === 'speech') {
    const result = answerMedia({
      profile,
      route,
      parsed,
      query: new URL(req.url ?? '/', 'http://emulator').searchParams,
      models: state.models(profile.id),
      origin: `http://${req.headers.host ?? 'localhost'}`,
      files: state.files,
    });
    if ('error' in result) return sendError(res, profile, result.error);
    media = result.reply;
  }

  // A cut only counts once there is an answer to cut; a rejected request leaves it armed. A stall
  // or a missing [DONE] only makes sense inside a stream.
  const cut = fault?.mode === 'midStreamCut' || ((fault?.mode === 'midStreamStall' || fault?.mode === 'noDone') && stream) ? fault : undefined;
  if (cut) state.faults.consume(cut);
  const cutAfter = cut?.mode === 'midStreamCut' ? (cut.afterChunks ?? DEFAULT_CUT_AFTER) : undefined;
  const broken: StreamBreak | undefined =
    cut?.mode === 'noDone'
      ? undefined
      : cut
        ? { after: cut.afterChunks ?? DEFAULT_CUT_AFTER, how: cut.mode === 'midStreamStall' ? 'stall' : 'cut' }
        : undefined;
  const noDone = cut?.mode === 'noDone';
  // Bad events only make sense inside a stream; a non-stream request leaves the fault armed.
  const bad = fault?.mode === 'malformedEvents' && stream ? fault : undefined;
  if (bad) state.faults.consume(bad);
  const malformed = bad ? { after: bad.afterChunks ?? DEFAULT_CUT_AFTER, count: bad.count ?? 1 } : undefined;

  if (route.kind === 'models') {
    const list = profile.modelsBody(state.models(profile.id));
    return cut ? sendPartialJson(ctx, list) : sendJson(res, 200, list);
  }
  if (media) return cut ? sendPartial(ctx, media.contentType, media.body) : sendBytes(res, media.contentType, media.body);
  return answerChat(ctx, body, model ?? '', stream, { cutAfter, broken, noDone, malformed, prefill });
}

/** A path under a provider's base URL that it does not serve: recorded, so a wrong adapter path is visible. */
export async function handleUnknownEndpoint(req: IncomingMessage, res: ServerResponse, profile: ProviderProfile, state: ProviderState): Promise<void> {
  await readAndRecord(req, res, profile, state);
  sendError(res, profile, { status: 404, message: `Unknown endpoint ${req.method} ${req.url}` });
}

async function readAndRecord(
  req: IncomingMessage,
  res: ServerResponse,
  profile: ProviderProfile,
  state: ProviderState,
): Promise<{ parsed: ParsedBody; raw: Buffer }> {
  res.setHeader('x-emulator-provider', profile.id);
  const raw = await readBytes(req);
  const parsed = parseJsonBody(raw.toString('utf8'));
  state.record({
    provider: profile.id,
    method: req.method ?? 'GET',
    path: req.url ?? '',
    headers: { ...req.headers },
    body: parsed.ok ? parsed.value : parsed.raw,
    bytes: raw.length,
  });
  return { parsed, raw };
}

/** Events that are not JSON, sent after `after` delta chunks of an otherwise good stream. */
interface MalformedEvents {
  after: number;
  count: number;
}

/** How one chat answer is to be spoiled or shaped (see the faults and PrefillMode). */
interface ChatShape {
  /** A non-stream answer is cut halfway when set. */
  cutAfter: number | undefined;
  broken: StreamBreak | undefined;
  noDone: boolean;
  malformed: MalformedEvents | undefined;
  prefill: string | undefined;
}

async function answerChat(ctx: RequestContext, body: Record<string, unknown>, model: string, stream: boolean, shape: ChatShape): Promise<void> {
  const { profile, state } = ctx;
  const { cutAfter, prefill } = shape;
  const openAi = profile.format === 'openai';
  // Workers AI calls tools only in whole answers (its stream with tools is undocumented: text only here).
  const supportsTools = openAi || !stream;
  const input = { provider: profile.id, model, body: openAi ? body : asOpenAiTools(body), supportsTools, supportsReasoning: openAi && prefill === undefined };
  const plan = planAnswer(prefill === undefined ? input : { ...input, prefill });
  if (stream) {
    const steps = streamSteps(profile, plan, model, body, state.pacing().chunks);
    return writeStream(ctx, shape.noDone ? steps.filter((s) => s.data !== '[DONE]') : steps, shape.broken, shape.malformed);
  }
  const json = openAi ? openAiCompletion(newMeta(model), plan, profile.dialect) : cloudflareResult(plan, body.response_format !== undefined);
  return cutAfter === undefined ? sendJson(ctx.res, 200, json) : sendPartialJson(ctx, json);
}

function streamSteps(profile: ProviderProfile, plan: AnswerPlan, model: string, body: Record<string, unknown>, chunks: number): StreamStep[] {
  if (profile.format === 'cloudflare') return cloudflareStream(plan, chunks);
  const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
  return openAiStream(newMeta(model), plan, profile.dialect, { includeUsage, chunks });
}

function authError(profile: ProviderProfile, key: string | undefined): ErrorSpec | undefined {
  if (key === undefined || key === '') {
    return profile.keyRequired ? { status: 401, message: profile.defaultMessage(401) } : undefined;
  }
  if (key.startsWith('bad')) return { status: 401, message: profile.defaultMessage(401) };
  if (key.startsWith('broke')) return { status: 402, message: profile.defaultMessage(402) };
  return undefined;
}

function requestError(ctx: RequestContext, parsed: ParsedBody, body: Record<string, unknown>, model: string | undefined): ErrorSpec | undefined {
  const { profile } = ctx;
  if (!parsed.ok || !isRecord(parsed.value)) return { status: 400, message: 'Request body must be a JSON object' };
  if (model === undefined || model === '') return { status: 400, message: 'model is required' };
  const hasMessages = Array.isArray(body.messages) && body.messages.length > 0;
  const hasPrompt = profile.format === 'cloudflare' && typeof body.prompt === 'string';
  if (!hasMessages && !hasPrompt) return { status: 400, message: 'messages must be a non-empty array' };
  if (!ctx.state.models(profile.id).includes(profile.listedId(model))) return profile.unknownModel(model);
  const stray = straySamplingError(profile, body, ctx.state.samplingAccepts(profile.id));
  if (stray !== undefined) return { status: 400, message: stray };
  const schemaError = profile.format === 'cloudflare' ? cloudflareSchemaError(model, body) : undefined;
  return schemaError === undefined ? undefined : { status: 400, message: schemaError };
}

function sendError(res: ServerResponse, profile: ProviderProfile, error: ErrorSpec, headers: Record<string, string> = {}): void {
  sendJson(res, error.status, profile.errorBody(error), headers);
}

async function applyTerminalFault(ctx: RequestContext, fault: Fault, stream: boolean, parsed: ParsedBody): Promise<void> {
  const { res, profile } = ctx;
  const media =
    ctx.route.kind === 'image' || ctx.route.kind === 'speech'
      ? mediaFaultShape(profile, ctx.route, parsed)
      : ctx.route.kind === 'embedding'
        ? embeddingFaultShape(profile)
        : ctx.route.kind === 'transcription'
          ? transcriptionFaultShape(profile)
          : undefined;
  if (isHostileMode(fault.mode)) return answerHostile(res, ctx.signal, fault.mode, stream, fault.delayMs);
  switch (fault.mode) {
    case 'status': {
      const status = fault.status ?? 500;
      const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) };
      return sendError(res, profile, { status, message: fault.message ?? profile.defaultMessage(status) }, headers);
    }
    case 'hang':
      // Deliberately never answers; the client's abort or close() ends the connection.
      return;
    case 'reset':
      ctx.req.socket.resetAndDestroy();
      return;
    case 'html200':
      return sendText(res, 'text/html; charset=utf-8', CHALLENGE_PAGE);
    case 'garbage200':
      if (media) return sendText(res, media.contentType, media.garbage);
      if (stream) return sendText(res, 'text/event-stream', 'data: not json\n\ndata: not json\n\ndata: not json\n\n');
      return sendText(res, 'application/json', ctx.route.kind === 'models' ? '{"data": [' : '{"choices": [');
    case 'empty200':
      if (media) return sendText(res, media.contentType, media.empty);
      return sendText(res, stream ? 'text/event-stream' : 'application/json', stream ? 'data: [DONE]\n\n' : '');
    default:
      // midStreamCut and slowFirstByte are applied on the way to the answer, the hostile modes above.
      return;
  }
}

function sendText(res: ServerResponse, contentType: string, text: string): void {
  res.writeHead(200, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function sendBytes(res: ServerResponse, contentType: string, body: Buffer): void {
  res.writeHead(200, { 'content-type': contentType, 'content-length': String(body.length) });
  res.end(body);
}

async function sendPartialJson(ctx: RequestContext, body: unknown): Promise<void> {
  const text = JSON.stringify(body);
  ctx.res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  await writeAsync(ctx.res, text.slice(0, Math.floor(text.length / 2)), ctx.signal);
  await cutConnection(ctx.res);
}

/** Announces the whole body, sends half of it, then ends the connection. */
async function sendPartial(ctx: RequestContext, contentType: string, body: Buffer): Promise<void> {
  ctx.res.writeHead(200, { 'content-type': contentType, 'content-length': String(body.length) });
  await writeAsync(ctx.res, body.subarray(0, Math.floor(body.length / 2)), ctx.signal);
  await cutConnection(ctx.res);
}

async function writeStream(ctx: RequestContext, steps: StreamStep[], broken: StreamBreak | undefined, malformed?: MalformedEvents): Promise<void> {
  const { res, signal } = ctx;
  const framing = ctx.state.framing(ctx.profile.id);
  const { chunkDelayMs } = ctx.state.pacing();
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  const writer = new StreamWriter(res, framing.splitBytes, signal);
  await writer.write(preamble(framing));
  if (broken?.after === 0) return breakAfterFlush(res, writer, broken, signal);
  if (malformed?.after === 0) await writeMalformed(writer, framing, malformed.count);

  let deltasSent = 0;
  for (const [index, step] of steps.entries()) {
    if (index > 0 && chunkDelayMs > 0) {
      // Under slow pacing each event should arrive on time, not wait for the next one's bytes.
      await writer.flush();
      await sleep(chunkDelayMs, signal);
    }
    await writer.write(encodeEvent(step.data, framing, index + 1));
    if (step.delta) deltasSent++;
    if (step.delta && broken !== undefined && deltasSent >= broken.after) return breakAfterFlush(res, writer, broken, signal);
    if (step.delta && deltasSent === malformed?.after) await writeMalformed(writer, framing, malformed.count);
  }
  await writer.flush();
  res.end();
}

/** Events cut off mid-JSON, as a garbling proxy would leave them. */
async function writeMalformed(writer: StreamWriter, framing: Framing, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await writer.write(encodeEvent(`{"choices": [{"delta": {"content": "broken ${i}`, framing, 0));
}

/** Cuts the connection, or leaves it open and silent until the client gives up (or close()). */
async function breakAfterFlush(res: ServerResponse, writer: StreamWriter, broken: StreamBreak, signal: AbortSignal): Promise<void> {
  await writer.flush();
  if (broken.how === 'cut') return cutConnection(res);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
