import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { ChatMessage } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { truncate } from '../events/record-bounds.ts';
import { STORAGE, type Storage, type StoredResponseWrite } from '../storage/storage.ts';
import { presentedDigest, type ClientKeyRequest } from './api-key.guard.ts';
import type { InputItemResource } from './responses-input-items.ts';
import { responseIdOfItem, type OutputItem, type ResponseObject } from './responses-output.ts';
import { outputMessages } from './responses-translate.ts';

/**
 * What is kept of one response: the object GET returns, its turn of the conversation, and the
 * response it continued. A conversation is the chain of its turns, so each record stays the size
 * of one turn however long the conversation grows (a record holding the whole conversation grew
 * with every turn, and a long agent session outgrew RESPONSES_MAX_STORED_BYTES).
 */
export interface ResponseRecord {
  response: ResponseObject;
  /** This turn's input as chat messages (no instructions); its output is `response.output`. */
  asked?: ChatMessage[];
  /** Earlier records of this shape: this turn's input and output together. */
  turn?: ChatMessage[];
  /** The response this one continued (`previous_response_id`), which holds the turns before. */
  previous?: string;
  /** Records written before chains: every earlier turn and this one, whole. */
  conversation?: ChatMessage[];
  /** This request's input items, as `input_items` lists them (absent in records written before it existed). */
  input?: InputItemResource[];
}

/** A conversation rebuilt from its chain: the messages, and the responses they came from (newest first). */
export interface StoredConversation {
  messages: ChatMessage[];
  chain: string[];
}

/** The most turns a conversation is rebuilt from: each is one read of storage. */
export const MAX_CONVERSATION_TURNS = 5_000;

/** How long the embedded store gathers saves before writing them (a crash loses at most this much). */
const WRITE_BEHIND_MS = 50;
/**
 * A batch goes to storage in writes of at most this many responses and bytes, yielding between
 * them: where SQLite writes on the event loop (no storage thread), one transaction for a busy
 * second's batch (or a few large documents) would hold every request in flight for milliseconds.
 * Up to a point, the more rows a transaction writes the less each costs: a batch of 128 rows cost
 * the storage thread 6.3 µs of CPU and 4 KB of writes per row, 32 rows 8.3 µs and 5.3 KB.
 */
const WRITE_MAX_RESPONSES = 128;
const WRITE_MAX_BYTES = 256 * 1024;

/** Expired responses are deleted at most this often (Redis expires them itself). */
const PURGE_EVERY_MS = 3_600_000;

/**
 * `record` as JSON text, its response spliced in from `responseJson` (JSON.stringify(record.response),
 * which a stream's last event already made): a stored answer is serialized once, not twice.
 */
export function recordJson(record: ResponseRecord, responseJson: string): string {
  const rest = JSON.stringify({ ...record, response: undefined });
  return rest === '{}' ? `{"response":${responseJson}}` : `{"response":${responseJson},${rest.slice(1)}`;
}

export const responseNotFound = (id: string, param: string | null = null): ApiError =>
  new ApiError(404, `No response found with id '${truncate(id, 200)}'.`, 'invalid_request_error', 'response_not_found', param);

/** Each request's owner, asked for by the front door and again by RunResponder (a digest of the key each time). */
const owners = new WeakMap<ClientKeyRequest, string>();

/**
 * A response saved but not yet written, readable meanwhile: its JSON only, parsed again on the rare
 * read before its write. Holding the record's objects instead kept them alive through a young
 * collection or two (a batch waits WRITE_BEHIND_MS, then the storage thread's answer), which cost
 * more CPU per stored answer than the write itself.
 */
interface Pending {
  owner: string;
  write: StoredResponseWrite;
}

/**
 * Stored Responses API answers (`store: true`, the default), for RESPONSES_TTL_SECONDS, in the
 * gateway's storage. Each belongs to the client key that made it (a console client key by its
 * id, an API_KEY key by a digest of it; with no key configured, to everyone): another key reads
 * it as missing. A record larger than RESPONSES_MAX_STORED_BYTES is not stored.
 *
 * Saves are gathered and written in batches, one transaction each: a commit per response cost more
 * CPU than answering it. Until written a saved response is read from memory, so this process finds
 * it at once; shutdown writes what is left. The embedded store is read by this process alone, so it
 * gathers for WRITE_BEHIND_MS; with Redis other replicas read too, and a batch leaves every turn.
 */
@Injectable()
export class ResponsesStore implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Responses');
  private purgedAt = 0;
  /** Saved and not yet written (gathered or being written), by response id: reads find them here. */
  private readonly unwritten = new Map<string, Pending>();
  /** The batch being gathered, written at the end of this turn. */
  private queued: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private readonly writes = new Set<Promise<void>>();

  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Who a request's stored responses belong to (never the key itself); worked out once per request. */
  ownerOf(req: ClientKeyRequest): string {
    let owner = owners.get(req);
    if (owner === undefined) {
      owner = this.ownerOfKey(req);
      owners.set(req, owner);
    }
    return owner;
  }

  private ownerOfKey(req: ClientKeyRequest): string {
    if (req.clientKeyId) return `key:${req.clientKeyId}`;
    const digest = presentedDigest(req);
    if (this.config.apiKeys.length > 0 && digest) return `env:${digest.toString('base64url').slice(0, 22)}`;
    return 'open';
  }

  async load(id: string, owner: string): Promise<ResponseRecord | undefined> {
    const waiting = this.unwritten.get(id);
    if (waiting) return waiting.owner === owner ? (JSON.parse(waiting.write.json) as ResponseRecord) : undefined;
    const stored = await this.storage.responses.get(id, Date.now());
    return stored && stored.owner === owner ? (stored.document as ResponseRecord) : undefined;
  }

  /**
   * The conversation up to and including response `id`: its turn and every earlier one, walked
   * back through `previous`. Undefined when `id` itself is missing; a 400 when an earlier turn is
   * (deleted, or stored by an older chain that expired), since the conversation cannot be rebuilt.
   */
  async conversation(id: string, owner: string): Promise<StoredConversation | undefined> {
    const turns: ChatMessage[][] = [];
    const chain: string[] = [];
    const seen = new Set<string>();
    for (let next: string | undefined = id; next !== undefined;) {
      if (chain.length >= MAX_CONVERSATION_TURNS || seen.has(next)) {
        throw ApiError.badRequest(
          `The conversation of '${truncate(id, 200)}' is longer than ${MAX_CONVERSATION_TURNS} turns; start a new one.`,
          'previous_response_id',
          'conversation_too_long',
        );
      }
      const record: ResponseRecord | undefined = await this.load(next, owner);
      if (!record) {
        if (next === id) return undefined;
        throw ApiError.badRequest(
          `An earlier response of this conversation ('${truncate(next, 200)}') is no longer stored, so the conversation cannot be continued.`,
          'previous_response_id',
          'previous_response_not_found',
        );
      }
      chain.push(next);
      seen.add(next);
      if (record.conversation) {
        turns.push(record.conversation);
        break;
      }
      turns.push(record.asked ? [...record.asked, ...outputMessages(record.response.output)] : (record.turn ?? []));
      next = record.previous;
    }
    return { messages: turns.reverse().flat(), chain };
  }

  /** Deletes a response of `owner`'s; false when there is none (or it is someone else's). */
  async remove(id: string, owner: string): Promise<boolean> {
    // Written first, so the delete below cannot be overtaken by a batch still holding it.
    if (this.unwritten.has(id)) await this.flush();
    if (!(await this.load(id, owner))) return false;
    return this.storage.responses.delete(id, Date.now());
  }

  /**
   * Keeps a finished response, and extends the expiry of the responses its conversation is built
   * from (`ancestors`, from conversation()). Never rejects: the client has its answer either way, so
   * a failed write is logged (the response is then missing on GET). Resolves once written.
   */
  save(record: ResponseRecord, owner: string, ancestors: readonly string[] = [], responseJson?: string): Promise<void> {
    const now = Date.now();
    const json = responseJson === undefined ? JSON.stringify(record) : recordJson(record, responseJson);
    // Length in UTF-16 units bounds the bytes from below; count bytes only when it could matter.
    const size = json.length * 3 <= this.config.responses.maxStoredBytes ? json.length : Buffer.byteLength(json);
    if (size > this.config.responses.maxStoredBytes) {
      this.logger.warn(`Response ${record.response.id} not stored: ${size} bytes is over RESPONSES_MAX_STORED_BYTES (${this.config.responses.maxStoredBytes})`);
      return Promise.resolve();
    }
    const id = record.response.id;
    const ttlMs = this.config.responses.ttlSeconds * 1000;
    const pending: Pending = { owner, write: { id, owner, expiresAt: now + ttlMs, json } };
    this.unwritten.set(id, pending);
    this.queued.push(pending);
    if (now - this.purgedAt >= PURGE_EVERY_MS) {
      this.purgedAt = now;
      this.storage.responses
        .purgeExpired(now)
        .catch((err: unknown) => this.logger.warn(`Purging expired responses failed: ${truncate(String((err as Error)?.message ?? err), 300)}`));
    }
    if (ancestors.length) {
      // The turns this one is built from live as long as it does; rewritten at most every tenth of the TTL.
      this.storage.responses
        .extend(ancestors, now + ttlMs, now + ttlMs * 0.9)
        .catch((err: unknown) => this.logger.warn(`Extending the conversation of ${id} failed: ${truncate(String((err as Error)?.message ?? err), 300)}`));
    }
    return this.flushSoon();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  /** The batch being gathered is written once the answers finishing about now have joined it. */
  private flushSoon(): Promise<void> {
    const delayed = this.storage.kind === 'sqlite';
    this.flushing ??= new Promise<void>((resolve) => (delayed ? setTimeout(resolve, WRITE_BEHIND_MS) : setImmediate(resolve))).then(() => this.flush());
    return this.flushing;
  }

  /** Writes the gathered batch now, and resolves once every write under way (this one included) is done. */
  private async flush(): Promise<void> {
    const batch = this.queued;
    this.queued = [];
    this.flushing = undefined;
    if (batch.length) {
      const write = this.write(batch);
      this.writes.add(write);
      void write.finally(() => this.writes.delete(write));
    }
    await Promise.all(this.writes);
  }

  private async write(batch: readonly Pending[]): Promise<void> {
    for (let start = 0; start < batch.length;) {
      let end = start + 1;
      let bytes = batch[start]!.write.json.length;
      while (end < batch.length && end - start < WRITE_MAX_RESPONSES && bytes + batch[end]!.write.json.length <= WRITE_MAX_BYTES) {
        bytes += batch[end++]!.write.json.length;
      }
      const part = batch.slice(start, end);
      try {
        await this.storage.responses.put(part.map((p) => p.write));
      } catch (err) {
        const ids = part.map((p) => p.write.id);
        this.logger.warn(`${ids.length} response(s) not stored (${truncate(ids.join(', '), 200)}): ${truncate((err as Error)?.message ?? String(err), 300)}`);
      } finally {
        // A response saved again meanwhile stays readable until its own write.
        for (const p of part) if (this.unwritten.get(p.write.id) === p) this.unwritten.delete(p.write.id);
      }
      start = end;
      if (start < batch.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The output items `item_reference`s name, from the owner's stored responses; a missing one is a 404 naming it. */
  async references(ids: readonly string[], owner: string): Promise<Map<string, OutputItem>> {
    const found = new Map<string, OutputItem>();
    const records = new Map<string, ResponseRecord | undefined>();
    for (const itemId of ids) {
      const responseId = responseIdOfItem(itemId);
      if (responseId && !records.has(responseId)) records.set(responseId, await this.load(responseId, owner));
      const item = responseId ? records.get(responseId)?.response.output.find((o) => o.id === itemId) : undefined;
      if (!item) throw new ApiError(404, `Item with id '${truncate(itemId, 200)}' not found.`, 'invalid_request_error', 'item_not_found', 'input');
      found.set(itemId, item);
    }
    return found;
  }
}
