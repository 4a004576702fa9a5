import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { inspect } from 'node:util';

/**
 * The store cannot be used as configured (DATA_DIR missing, not a directory, read-only, full,
 * or a corrupt database file). The message names the path and says what to do, in one line:
 * main.ts prints it as it is and exits.
 */
export class StorageError extends Error {
  override name = 'StorageError';

  /** Nest logs a failed startup with util.inspect: one line, since a stack says nothing the message does not. */
  [inspect.custom](): string {
    return `${this.name}: ${this.message}`;
  }
}

/** What Node's fs and node:sqlite errors carry; read by shape, since node:sqlite's errors fail `instanceof Error` under Jest. */
interface SystemErrorShape {
  code?: unknown;
  errcode?: unknown;
  path?: unknown;
  message?: unknown;
  cause?: unknown;
}

const shape = (err: unknown): SystemErrorShape => (typeof err === 'object' && err !== null ? (err as SystemErrorShape) : {});
const messageOf = (err: unknown): string => (typeof shape(err).message === 'string' ? (shape(err).message as string) : String(err));

/** SQLite's primary result codes (the low byte of an extended code) that mean "this store cannot be written now". */
const SQLITE = { BUSY: 5, READONLY: 8, IOERR: 10, CORRUPT: 11, FULL: 13, CANTOPEN: 14, NOTADB: 26 } as const;

function sqliteCode(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = shape(e).cause, depth++) {
    const { code, errcode } = shape(e);
    if (code === 'ERR_SQLITE_ERROR' && typeof errcode === 'number') return errcode & 0xff;
  }
  return undefined;
}

const FIX_WRITABLE = 'make DATA_DIR a writable directory (check the volume, its mount options and its owner)';
const FIX_SPACE = 'free space on that volume or point DATA_DIR at a larger one';

/** One line for a file-system error on `path`, or undefined when the code is not about the storage itself. */
function fsProblem(code: unknown, path: string): string | undefined {
  switch (code) {
    case 'ENOTDIR':
    case 'EEXIST':
      return `${path} is not a directory: point DATA_DIR at a directory (or move the file away)`;
    case 'EROFS':
      return `${path} is on a read-only file system: ${FIX_WRITABLE}`;
    case 'EACCES':
    case 'EPERM':
      return `${path} is not writable (permission denied): ${FIX_WRITABLE}`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left to write in ${path}: ${FIX_SPACE}`;
    default:
      return undefined;
  }
}

/**
 * Creates DATA_DIR (for the file `file`) when missing and checks that it is a writable
 * directory, so that a bad one is reported by path and cause rather than as SQLite's
 * "unable to open database file".
 */
export function prepareDataDir(file: string): void {
  const dir = dirname(file);
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const problem = fsProblem(shape(err).code, typeof shape(err).path === 'string' ? (shape(err).path as string) : dir);
    throw new StorageError(problem ?? `cannot use ${dir} as DATA_DIR (${messageOf(err)}): ${FIX_WRITABLE}`, { cause: err });
  }
}

/** The StorageError for a failure to open or migrate the database file `file`. */
export function sqliteOpenError(err: unknown, file: string): StorageError {
  const dir = dirname(file);
  const code = sqliteCode(err);
  const line =
    code === SQLITE.NOTADB || code === SQLITE.CORRUPT
      ? `${file} is not a usable SQLite database (corrupt, or another kind of file): restore it from a backup, or move it (and its -wal/-shm files) aside to start with an empty store`
      : code === SQLITE.FULL
        ? `no space left to write ${file}: ${FIX_SPACE}`
        : code === SQLITE.READONLY || code === SQLITE.CANTOPEN
          ? `cannot write ${file}: ${FIX_WRITABLE} (${dir})`
          : (fsProblem(shape(err).code, dir) ?? `cannot open ${file} (${messageOf(err)})`);
  return new StorageError(line, { cause: err });
}

/**
 * For main.ts: the one line to print when startup failed because of the storage, else undefined.
 * Besides StorageError, covers the other writers under DATA_DIR (the generated secret key, the
 * image files), whose Node errors name their path.
 */
export function startupStorageError(err: unknown): string | undefined {
  if (err instanceof StorageError) return err.message;
  const { code, path } = shape(err);
  if (typeof path === 'string') return fsProblem(code, path);
  return undefined;
}

/**
 * ioredis' own wording for a command that failed because Redis is not reachable (it has no error
 * classes for these). Deliberately not bare socket codes: an upstream's ECONNREFUSED is no storage outage.
 */
const REDIS_OUTAGE = [/^Stream isn't writeable/, /^Connection is closed/, /^Command timed out/, /max retries per request/];

/**
 * For the error filter: a short reason when `err` means the store cannot serve the call right
 * now (Redis unreachable, SQLite busy, read-only or full), so the client gets a 503 rather than
 * a 500; undefined for anything else.
 */
export function storageUnavailable(err: unknown): string | undefined {
  const code = sqliteCode(err);
  if (code === SQLITE.FULL) return 'The storage is full: no space left on the data volume.';
  if (code === SQLITE.READONLY || code === SQLITE.IOERR || code === SQLITE.CANTOPEN) return 'The storage cannot be written right now.';
  if (code === SQLITE.BUSY) return 'The storage is busy; try again shortly.';
  if (shape(err).code === 'ENOSPC') return 'The storage is full: no space left on the data volume.';
  if (shape(err).code === 'EROFS') return 'The storage cannot be written right now.';
  const name = shape(err).message;
  const text = typeof name === 'string' ? name : '';
  const ctor = typeof err === 'object' && err !== null ? err.constructor?.name : '';
  if (ctor === 'MaxRetriesPerRequestError' || REDIS_OUTAGE.some((re) => re.test(text)))
    return 'The storage (Redis) is unreachable right now; try again shortly.';
  return undefined;
}
