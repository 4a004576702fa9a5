import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { StorageError, prepareDataDir, sqliteOpenError, startupStorageError, storageUnavailable } from './storage-errors.ts';

const sqliteError = (errcode: number, errstr: string) => Object.assign(new Error(errstr), { code: 'ERR_SQLITE_ERROR', errcode, errstr });

let root: string;
beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'g4f-storage-errors-'))));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('prepareDataDir', () => {
  it('creates a missing directory', () => {
    expect(() => prepareDataDir(join(root, 'a', 'b', 'pool.db'))).not.toThrow();
  });

  it('names a file that is in the way', () => {
    const file = join(root, 'in-the-way');
    writeFileSync(file, 'x');
    let thrown: unknown;
    try {
      prepareDataDir(join(file, 'pool.db'));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StorageError);
    expect((thrown as Error).message).toBe(`${file} is not a directory: point DATA_DIR at a directory (or move the file away)`);
  });
});

describe('sqliteOpenError', () => {
  const file = '/data/pool.db';
  it.each<[string, unknown, RegExp]>([
    ['not a database', sqliteError(26, 'file is not a database'), /^\/data\/pool\.db is not a usable SQLite database .*move it .* aside/],
    ['corrupt', sqliteError(11, 'database disk image is malformed'), /^\/data\/pool\.db is not a usable SQLite database/],
    ['full (extended code)', sqliteError(13 | (1 << 8), 'database or disk is full'), /^no space left to write \/data\/pool\.db: free space/],
    ['read-only', sqliteError(8, 'attempt to write a readonly database'), /^cannot write \/data\/pool\.db: make DATA_DIR a writable directory/],
    ['wrapped in a migration error', new Error('migration failed', { cause: sqliteError(26, 'file is not a database') }), /is not a usable SQLite database/],
    ['anything else', new Error('odd'), /^cannot open \/data\/pool\.db \(odd\)$/],
  ])('%s', (_, err, expected) => {
    expect(sqliteOpenError(err, file).message).toMatch(expected);
  });
});

describe('startupStorageError', () => {
  it('takes a StorageError as it is and a file-system error by its path; nothing else', () => {
    expect(startupStorageError(new StorageError('x'))).toBe('x');
    const eacces = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES', path: '/data/secret.key' });
    expect(startupStorageError(eacces)).toMatch(/^\/data\/secret\.key is not writable \(permission denied\): make DATA_DIR a writable directory/);
    expect(startupStorageError(Object.assign(new Error('ENOENT'), { code: 'ENOENT', path: '/x' }))).toBeUndefined();
    expect(startupStorageError(new Error('boom'))).toBeUndefined();
  });

  it('is logged on one line, without a stack', () => {
    expect(inspect(new StorageError('/data is full'))).toBe('StorageError: /data is full');
  });
});

describe('storageUnavailable', () => {
  it.each<[string, unknown, RegExp | undefined]>([
    ['SQLite full', sqliteError(13, 'database or disk is full'), /full/],
    ['SQLite read-only', sqliteError(8, 'attempt to write a readonly database'), /cannot be written/],
    ['SQLite busy', sqliteError(5, 'database is locked'), /busy/],
    ['ENOSPC', Object.assign(new Error('no space'), { code: 'ENOSPC' }), /full/],
    ['Redis offline', new Error("Stream isn't writeable and enableOfflineQueue options is false"), /Redis.*unreachable/],
    ['Redis timeout', new Error('Command timed out'), /Redis.*unreachable/],
    ['a bug', new TypeError('x is undefined'), undefined],
    ['an upstream refusing connections', Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }), undefined],
    ['SQLite constraint', sqliteError(19, 'UNIQUE constraint failed'), undefined],
  ])('%s', (_, err, expected) => {
    const reason = storageUnavailable(err);
    if (expected) expect(reason).toMatch(expected);
    else expect(reason).toBeUndefined();
  });
});
