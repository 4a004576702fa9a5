import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ChatMessage } from '#contracts';
import { secretDigest } from '../client-keys/client-keys.service.ts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { truncate } from '../events/record-bounds.ts';
import { STORAGE, type Storage } from '../storage/storage.ts';
import { presentedKey, type ClientKeyRequest } from './api-key.guard.ts';
import { responseIdOfItem, type OutputItem, type ResponseObject } from './responses-output.ts';

/** What is kept of one response: the object GET returns, and the whole conversation up to it. */
export interface ResponseRecord {
  response: ResponseObject;
  /** Every earlier turn, this turn's input and its output, as chat messages (no instructions). */
  conversation: ChatMessage[];
}

/** Expired responses are deleted at most this often (Redis expires them itself). */
const PURGE_EVERY_MS = 3_600_000;

export const responseNotFound = (id: string, param: string | null = null): ApiError =>
  new ApiError(404, `No response found with id '${truncate(id, 200)}'.`, 'invalid_request_error', 'response_not_found', param);

/**
 * Stored Responses API answers (`store: true`, the default), for RESPONSES_TTL_SECONDS, in the
 * gateway's storage. Each belongs to the client key that made it (a console client key by its
 * id, an API_KEY key by a digest of it; with no key configured, to everyone): another key reads
 * it as missing. A record larger than RESPONSES_MAX_STORED_BYTES is not stored.
 */
@Injectable()
export class ResponsesStore {
  private readonly logger = new Logger('Responses');
  private purgedAt = 0;

  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Who a request's stored responses belong to (never the key itself). */
  ownerOf(req: ClientKeyRequest): string {
    if (req.clientKeyId) return `key:${req.clientKeyId}`;
    const key = presentedKey(req);
    if (this.config.apiKeys.length > 0 && key) return `env:${secretDigest(key).toString('base64url').slice(0, 22)}`;
    return 'open';
  }

  async load(id: string, owner: string): Promise<ResponseRecord | undefined> {
    const stored = await this.storage.responses.get(id, Date.now());
    return stored && stored.owner === owner ? (stored.document as ResponseRecord) : undefined;
  }

  /** Deletes a response of `owner`'s; false when there is none (or it is someone else's). */
  async remove(id: string, owner: string): Promise<boolean> {
    if (!(await this.load(id, owner))) return false;
    return this.storage.responses.delete(id, Date.now());
  }

  /**
   * Keeps a finished response. Never rejects: the client has its answer either way, so a failed
   * write is logged (the response is then missing on GET). The embedded store writes before this
   * returns, so a client's next request already finds it.
   */
  save(record: ResponseRecord, owner: string): Promise<void> {
    const now = Date.now();
    const size = Buffer.byteLength(JSON.stringify(record));
    if (size > this.config.responses.maxStoredBytes) {
      this.logger.warn(`Response ${record.response.id} not stored: ${size} bytes is over RESPONSES_MAX_STORED_BYTES (${this.config.responses.maxStoredBytes})`);
      return Promise.resolve();
    }
    const written = this.storage.responses
      .put({ id: record.response.id, owner, expiresAt: now + this.config.responses.ttlSeconds * 1000, document: record })
      .catch((err: unknown) => this.logger.warn(`Response ${record.response.id} not stored: ${truncate((err as Error)?.message ?? String(err), 300)}`));
    if (now - this.purgedAt >= PURGE_EVERY_MS) {
      this.purgedAt = now;
      this.storage.responses
        .purgeExpired(now)
        .catch((err: unknown) => this.logger.warn(`Purging expired responses failed: ${truncate(String((err as Error)?.message ?? err), 300)}`));
    }
    return written;
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
