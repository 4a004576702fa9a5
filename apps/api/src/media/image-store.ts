import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { imageExtension, mimeForExtension, type ImageMime } from './media-bytes.ts';

/** 24 random bytes as base64url, then the extension: unguessable, and safe as a path segment. */
const FILE_NAME = /^[A-Za-z0-9_-]{32}\.(png|jpg|webp|gif)$/;

/** A new unguessable file name for an image of this type. */
export function newImageName(mime: ImageMime): string {
  return `${randomBytes(24).toString('base64url')}.${imageExtension(mime)}`;
}

/** The type behind one of our file names, or undefined when the name is not one of ours. */
export function imageNameMime(name: string): ImageMime | undefined {
  const ext = FILE_NAME.exec(name)?.[1];
  return ext === undefined ? undefined : mimeForExtension(ext);
}

export interface StoredImage {
  data: Buffer;
  mime: ImageMime;
  /** Epoch ms after which the file is gone. */
  expiresAt: number;
}

/**
 * Generated images kept for `response_format: "url"`, served at `/v1/images/files/<name>` for
 * IMAGE_URL_TTL_SECONDS. The token the controller and the images service inject; MediaModule
 * picks the implementation: files under DATA_DIR when embedded, Redis in cluster mode (every
 * replica must serve every link, and DATA_DIR is per pod there).
 */
export abstract class ImageStore {
  /** Keeps the image and returns its file name (`<id>.<ext>`). */
  abstract save(data: Buffer, mime: ImageMime): Promise<string>;
  /** The image behind a file name, or undefined when there is none (never was, expired, or not one of ours). */
  abstract read(name: string): Promise<StoredImage | undefined>;
}

/**
 * The embedded mode's store: files under `${DATA_DIR}/images`, served
 * at `/v1/images/files/<name>` until IMAGE_URL_TTL_SECONDS after they were written, then swept.
 * The file's mtime is its birth date, so expiry survives a restart.
 */
@Injectable()
export class FileImageStore extends ImageStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ImageStore');
  readonly dir: string;
  readonly ttlMs: number;
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<number>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super();
    this.dir = join(config.dataDir, 'images');
    this.ttlMs = config.imageUrlTtlSeconds * 1000;
  }

  async onModuleInit(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.sweep();
    // Often enough that a file outlives its TTL by at most a quarter of it (and at most a minute).
    const every = Math.min(60_000, Math.max(500, Math.floor(this.ttlMs / 4)));
    this.timer = setInterval(() => void this.sweep(), every);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** Writes the image and returns its file name (`<id>.<ext>`). */
  async save(data: Buffer, mime: ImageMime): Promise<string> {
    const name = newImageName(mime);
    const tmp = join(this.dir, `.${name}.tmp`);
    await mkdir(this.dir, { recursive: true });
    await writeFile(tmp, data, { mode: 0o600 });
    // Renamed into place, so a reader never sees half a file.
    await rename(tmp, join(this.dir, name));
    return name;
  }

  /** The image behind a file name, or undefined when there is none (never was, expired, or not one of ours). */
  async read(name: string): Promise<StoredImage | undefined> {
    const mime = imageNameMime(name);
    if (!mime) return undefined;
    const path = join(this.dir, name);
    try {
      const info = await stat(path);
      const expiresAt = info.mtimeMs + this.ttlMs;
      if (expiresAt <= Date.now()) {
        await unlink(path).catch(() => undefined);
        return undefined;
      }
      return { data: await readFile(path), mime, expiresAt };
    } catch {
      return undefined;
    }
  }

  /** Deletes every expired file (and stale temp files); returns how many went. */
  sweep(): Promise<number> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    const now = Date.now();
    let removed = 0;
    for (const name of names) {
      const path = join(this.dir, name);
      try {
        const info = await stat(path);
        if (!info.isFile() || info.mtimeMs + this.ttlMs > now) continue;
        await unlink(path);
        removed++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn(`cannot remove ${name}: ${(err as Error).message}`);
      }
    }
    return removed;
  }
}
