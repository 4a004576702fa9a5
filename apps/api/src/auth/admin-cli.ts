/**
 * `npm run admin -- reset-password [--password <new>]`: sets a new admin password (a generated
 * one, printed once, unless --password gives it) in the store the service uses, with the same
 * environment (DATA_DIR, or REDIS_URL and SECRET_KEY), and ends every admin session. It works
 * while the service is stopped and while it runs: the embedded SQLite store takes a second
 * connection (WAL, with a busy timeout), and the running service reads the password again at
 * each login and a session again within a second.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../config/app-config.ts';
import { startupStorageError } from '../storage/storage-errors.ts';
import { openStorage } from '../storage/storage.module.ts';
import { resetAdminPassword } from './admin-auth.service.ts';

const USAGE = `Usage: npm run admin -- reset-password [--password <new password>]
  Sets a new admin password for the console (a generated one, printed once, unless --password is given)
  and logs every admin session out. Run it with the service's environment (DATA_DIR, or REDIS_URL and SECRET_KEY).
用法：npm run admin -- reset-password [--password <新密码>]
  重置管理控制台的管理员密码（不给 --password 时生成一个并只显示这一次），并注销所有管理员会话。请使用与服务相同的环境变量（DATA_DIR，或 REDIS_URL 与 SECRET_KEY）运行。`;

/** Long enough that the login throttle makes guessing hopeless; the generated ones have 16 characters. */
const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 1024;

class UsageError extends Error {}

function parseArgs(argv: string[]): { password?: string } {
  const [command, ...rest] = argv;
  if (command !== 'reset-password') throw new UsageError(command ? `Unknown command "${command.slice(0, 40)}".` : 'No command given.');
  let password: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (password === undefined && arg === '--password' && i + 1 < rest.length) password = rest[++i];
    else if (password === undefined && arg.startsWith('--password=')) password = arg.slice('--password='.length);
    else throw new UsageError(`Unexpected argument "${arg.slice(0, 40)}".`);
  }
  if (password !== undefined && (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH)) {
    throw new UsageError(
      `The password must have ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters. 密码长度须为 ${MIN_PASSWORD_LENGTH} 到 ${MAX_PASSWORD_LENGTH} 个字符。`,
    );
  }
  return { password };
}

async function main(argv: string[]): Promise<number> {
  let args: { password?: string };
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n${USAGE}`);
    return 2;
  }
  const config = loadConfig();
  if (config.admin.password) {
    console.error(
      'ADMIN_PASSWORD is set, so the admin password is its value: change it there and restart the service. 已设置 ADMIN_PASSWORD，管理员密码就是它的值：请修改该变量并重启服务。',
    );
    return 1;
  }
  const password = args.password ?? randomBytes(12).toString('base64url');
  const storage = await openStorage(config);
  try {
    const { sessionsEnded } = await resetAdminPassword(storage, password);
    const where = config.redis ? 'Redis (REDIS_URL)' : config.dataDir;
    const shown = args.password ? 'set to the one given' : `now "${password}" (shown only this once)`;
    console.log(`Admin password reset in ${where}: ${shown}; ${sessionsEnded} admin session(s) logged out. 管理员密码已重置，所有管理员会话已注销。`);
  } finally {
    await storage.close();
  }
  return 0;
}

let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (err) {
  // The same one-line answers as a failed start: a bad variable, or a DATA_DIR that cannot be opened.
  const storage = startupStorageError(err);
  if (err instanceof ConfigError) console.error(`Configuration error: ${err.message}`);
  else if (storage) console.error(`Storage error: ${storage}`);
  else throw err;
  code = 1;
}
// Explicitly: a Redis client winding down must not keep the command waiting.
process.exit(code);
