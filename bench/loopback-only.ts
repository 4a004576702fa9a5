// Preloaded (node --import ./bench/loopback-only.ts) into third-party servers the benchmark runs
// (Portkey's gateway listens on every interface and has no option for the address): a listen()
// without a host binds 127.0.0.1, so nothing the benchmark starts is reachable from the network.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  const [first, second] = args;
  const port = typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first));
  if (port && (second === undefined || typeof second === 'function')) args.splice(1, second === undefined ? 1 : 0, '127.0.0.1');
  else if (typeof first === 'object' && first !== null && !('host' in first) && !('path' in first)) args[0] = { ...first, host: '127.0.0.1' };
  return listen.apply(this, args as Parameters<typeof listen>);
} as typeof listen;
