import { createConnection, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A loopback TCP relay that holds everything its clients send for a while before passing it on. */
export interface SlowLink {
  /** The port to connect to instead of the target's. */
  port: number;
  close(): Promise<void>;
}

/**
 * Relays 127.0.0.1:<port> to 127.0.0.1:`targetPort`, delaying each chunk a client sends by
 * `delayMs` (in order); replies pass at once. A store reached over it is one whose writes land
 * late, as over a slow network path from one replica: what a replica must not assume is instant.
 */
export async function startSlowLink(targetPort: number, delayMs: number): Promise<SlowLink> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let last = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      // Each chunk waits its own delay, after the one before it: order is kept.
      const due = Date.now() + delayMs;
      last = last
        .then(() => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, due - Date.now()))))
        .then(() => {
          if (!upstream.destroyed) upstream.write(chunk);
        });
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
