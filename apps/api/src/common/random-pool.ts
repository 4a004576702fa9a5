import { randomBytes } from 'node:crypto';

/**
 * Random bytes for ids (chat completion, message and response ids), drawn from the system's
 * generator a few kilobytes at a time: each call into it costs some 4 µs whatever its size, and
 * the gateway makes ids on every answer. The bytes are the same cryptographically strong ones
 * `randomBytes` gives (Node's randomUUID pools its bytes the same way); each is handed out once.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/** `bytes` fresh random bytes (at most POOL_BYTES), encoded as `encoding`. */
export function randomId(bytes: number, encoding: 'hex' | 'base64url'): string {
  if (offset + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  offset += bytes;
  return pool.toString(encoding, offset - bytes, offset);
}
