import { createServer } from 'node:net';

/** Why a listening socket could not be bound, as the one line an operator needs; undefined for other errors. */
export function bindErrorMessage(err: unknown, port: number, host: string): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = `${host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return `Port ${port} is already in use (${where}); stop the other process or set PORT to a free port. 端口 ${port} 已被占用：请停止占用它的进程，或用环境变量 PORT 换一个端口。`;
    case 'EACCES':
      return `Not allowed to listen on port ${port} (${where}); ports below 1024 need privileges: set PORT to 1024 or above. 无权监听端口 ${port}：请用环境变量 PORT 换一个 1024 以上的端口。`;
    case 'EADDRNOTAVAIL':
      return `Cannot listen on ${where}: this machine has no address ${host}; set HOST to one of its addresses (or 0.0.0.0). 本机没有地址 ${host}：请修改环境变量 HOST。`;
    default:
      return undefined;
  }
}

/**
 * Resolves when `port` can be bound on `host` now (the probe socket is closed again at once), and
 * rejects with the socket's error otherwise. Run before anything is built or written, so that a
 * busy port stops the start before it persists anything (a generated admin password above all).
 */
export function checkPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}
