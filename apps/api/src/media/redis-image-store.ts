import { Logger } from '@nestjs/common';
import { ApiError } from '../common/api-error.ts';
import type { AppConfig } from '../config/app-config.ts';
import type { RedisConnection } from '../storage/redis/redis-connection.ts';
import { ImageStore, imageNameMime, newImageName, type StoredImage } from './image-store.ts';
import type { ImageMime } from './media-bytes.ts';

/**
 * Cluster mode's image store: each image is one Redis string (`P image:<name>`) that Redis
 * itself expires after IMAGE_URL_TTL_SECONDS, so a link made on one replica is served by every
 * other, and nothing needs sweeping. An image is held in Redis's memory for its TTL, so each
 * is bounded (MEDIA_FETCH_MAX_BYTES, the bound the gateway already puts on an image it fetches);
 * Images must not crowd out the gateway's own state: with `maxmemory-policy noeviction` a full
 * Redis refuses every write, sessions and stats included. So an image is refused while Redis
 * holds more than IMAGE_MEMORY_SHARE of its maxmemory (when it has one); the client can still ask
 * for `b64_json`, and the space comes back as older images expire.
 */
/** The share of Redis's maxmemory above which no image is stored (the rest is for gateway state). */
export const IMAGE_MEMORY_SHARE = 0.5;

export class RedisImageStore extends ImageStore {
  private readonly logger = new Logger('ImageStore');
  readonly ttlMs: number;
  readonly maxBytes: number;

  constructor(
    private readonly redis: RedisConnection,
    config: AppConfig,
  ) {
    super();
    this.ttlMs = config.imageUrlTtlSeconds * 1000;
    this.maxBytes = config.limits.mediaFetchBytes;
  }

  async save(data: Buffer, mime: ImageMime): Promise<string> {
    if (data.length > this.maxBytes) {
      throw new ApiError(
        502,
        `The generated image is ${data.length} bytes, more than the ${this.maxBytes} the gateway hosts (MEDIA_FETCH_MAX_BYTES); ask for response_format "b64_json" instead.`,
        'upstream_error',
        'image_too_large',
      );
    }
    const name = newImageName(mime);
    let room: boolean;
    try {
      room = await this.redis.memoryRoom(data.length, IMAGE_MEMORY_SHARE);
      if (room) await this.redis.client.set(this.key(name), data, 'PX', this.ttlMs);
    } catch (err) {
      throw this.unavailable('store', err);
    }
    if (!room) {
      this.logger.warn(
        `Redis is above ${IMAGE_MEMORY_SHARE * 100} % of its maxmemory: an image URL was refused (raise maxmemory or lower IMAGE_URL_TTL_SECONDS)`,
      );
      throw new ApiError(
        503,
        'The gateway has no room to host more images right now; ask for response_format "b64_json", or try again later.',
        'server_error',
        'image_store_full',
        null,
        undefined,
        { 'retry-after': '60' },
      );
    }
    return name;
  }

  async read(name: string): Promise<StoredImage | undefined> {
    const mime = imageNameMime(name);
    if (!mime) return undefined;
    let replies: [Error | null, unknown][] | null;
    try {
      // One transaction, so the TTL read belongs to the bytes read (the key cannot expire in between).
      replies = await this.redis.client.multi().getBuffer(this.key(name)).pttl(this.key(name)).exec();
    } catch (err) {
      throw this.unavailable('read', err);
    }
    const [[getErr, data] = [null, null], [ttlErr, ttl] = [null, -2]] = replies ?? [];
    if (getErr || ttlErr) throw this.unavailable('read', getErr ?? ttlErr);
    if (!Buffer.isBuffer(data) || typeof ttl !== 'number' || ttl <= 0) return undefined;
    return { data, mime, expiresAt: Date.now() + ttl };
  }

  private key(name: string): string {
    return this.redis.key('image', name);
  }

  /** Redis down or slow: the client learns it is temporary, not that the image is gone. */
  private unavailable(what: 'store' | 'read', err: unknown): ApiError {
    this.logger.warn(`Cannot ${what} an image in Redis: ${(err as Error)?.message ?? String(err)}`);
    return new ApiError(503, `The image store (Redis) is unavailable; try again shortly.`, 'server_error', 'image_store_unavailable', null, undefined, {
      'retry-after': '2',
    });
  }
}
