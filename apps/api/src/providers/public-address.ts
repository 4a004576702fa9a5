import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { UpstreamError } from './upstream-errors.ts';

/**
 * Ranges a URL handed to the gateway by an upstream must never reach: the gateway's own machine,
 * its networks and the cloud metadata service (169.254.169.254) are not the upstream's to read.
 */
const NON_PUBLIC_V4: [string, number][] = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const NON_PUBLIC_V6: [string, number][] = [
  ['::', 128], // unspecified
  ['::1', 128],
  ['::', 96], // IPv4-compatible (deprecated)
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const nonPublic = new BlockList();
for (const [net, prefix] of NON_PUBLIC_V4) nonPublic.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of NON_PUBLIC_V6) nonPublic.addSubnet(net, prefix, 'ipv6');

/** The eight 16-bit groups of an IPv6 address (already validated by isIP). */
function groupsOf(address: string): number[] {
  let text = address.split('%')[0]!.toLowerCase();
  // A trailing dotted quad (::ffff:127.0.0.1) is two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16));
}

/**
 * The IPv4 address an IPv6 one carries and that the network will actually reach: IPv4-mapped
 * (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16). Undefined for any other address.
 */
export function embeddedIPv4(address: string): string | undefined {
  const g = groupsOf(address);
  const quad = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return quad(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return quad(g[6]!, g[7]!);
  if (g[0] === 0x2002) return quad(g[1]!, g[2]!);
  return undefined;
}

/** Whether an IP address is on the public internet (not loopback, private, link-local, multicast, ...). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address.split('%')[0]!);
  if (family === 4) return !nonPublic.check(address, 'ipv4');
  if (family !== 6) return false;
  const v4 = embeddedIPv4(address);
  if (v4 !== undefined) return isPublicAddress(v4);
  return !nonPublic.check(address.split('%')[0]!, 'ipv6');
}

/** The hostname of a URL as an IP literal (brackets removed), or undefined for a name. */
function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) ? bare : undefined;
}

/**
 * A URL from an upstream that leads where the gateway does not go: an invalid answer of that
 * upstream (it fails over). Says what to set, never what the address serves.
 */
export class AddressRefusedError extends UpstreamError {
  readonly code = 'ERR_ADDRESS_REFUSED';

  constructor(reason: string) {
    super('invalid', `the upstream's media URL was not fetched: ${reason}`);
    this.name = 'AddressRefusedError';
  }
}

/**
 * Decides which hosts a URL that an upstream returned may reach: public addresses only, plus what
 * MEDIA_FETCH_ALLOW_HOSTS names (host names, IPs, CIDRs). Names are checked after DNS resolution,
 * every resolved address, inside the socket's own lookup (see lookup), so a name that resolves to a
 * public address for the check and a private one for the connection (DNS rebinding) cannot pass.
 */
export class AddressGuard {
  private static count = 0;
  /** Tells guards apart: each gets its own connection pool (UpstreamHttp). */
  readonly id = ++AddressGuard.count;
  private readonly hosts = new Set<string>();
  private readonly allowed = new BlockList();

  constructor(allowList: readonly string[]) {
    for (const raw of allowList) this.allow(raw.trim().toLowerCase());
  }

  private allow(entry: string): void {
    if (!entry) return;
    const [net, bits] = entry.split('/');
    const ip = ipLiteral(net!);
    const family = ip ? isIP(ip) : 0;
    if (!ip) {
      this.hosts.add(entry);
    } else if (bits === undefined) {
      this.allowed.addAddress(ip, family === 4 ? 'ipv4' : 'ipv6');
    } else {
      const prefix = Number(bits);
      const max = family === 4 ? 32 : 128;
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new Error(`MEDIA_FETCH_ALLOW_HOSTS: "${entry}" is not a valid CIDR`);
      this.allowed.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** Whether the operator allowed this host name outright (then its addresses are not checked). */
  allowsHost(hostname: string): boolean {
    return this.hosts.has(hostname.toLowerCase().replace(/\.$/, ''));
  }

  /** Whether a resolved (or literal) address may be connected to. */
  allowsAddress(address: string): boolean {
    if (isPublicAddress(address)) return true;
    const bare = address.split('%')[0]!;
    const family = isIP(bare);
    if (family === 0) return false;
    if (this.allowed.check(bare, family === 4 ? 'ipv4' : 'ipv6')) return true;
    const v4 = family === 6 ? embeddedIPv4(bare) : undefined;
    return v4 !== undefined && this.allowed.check(v4, 'ipv4');
  }

  /**
   * Checks a URL before any request: http(s) only, and an IP-literal host must be allowed (a socket
   * given an IP connects without a lookup, so lookup() would never see it).
   */
  checkUrl(url: URL): void {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AddressRefusedError(`the URL's scheme is ${url.protocol.slice(0, 16)}, not http(s)`);
    if (this.allowsHost(url.hostname)) return;
    const ip = ipLiteral(url.hostname);
    if (ip !== undefined && !this.allowsAddress(ip)) throw refused();
  }

  /**
   * Resolves a name and refuses it when any of its addresses is not allowed, for a pre-flight
   * check where the connection itself goes elsewhere (a proxy resolves the name itself).
   */
  async checkHost(hostname: string): Promise<void> {
    if (this.allowsHost(hostname) || ipLiteral(hostname) !== undefined) return;
    const addresses = await new Promise<LookupAddress[]>((resolve, reject) =>
      dnsLookup(hostname, { all: true }, (err, found) => (err ? reject(err) : resolve(found))),
    );
    if (addresses.length === 0 || addresses.some((a) => !this.allowsAddress(a.address))) throw refused();
  }

  /**
   * Before a request: the URL, and with a proxy (which resolves the name itself, so lookup() never
   * runs) the name's current addresses; without one, lookup() checks them at connect time.
   */
  async vet(url: URL, viaProxy: boolean): Promise<void> {
    this.checkUrl(url);
    if (viaProxy) await this.checkHost(url.hostname);
  }

  /** A socket `lookup` that resolves as usual and fails when any resolved address is not allowed. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as LookupAddress[];
      if (!this.allowsHost(hostname) && (list.length === 0 || list.some((a) => !this.allowsAddress(a.address)))) {
        return callback(refused() as NodeJS.ErrnoException, '', 0);
      }
      // net asks for all addresses when it races families (autoSelectFamily), else for one.
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      else callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

const refused = () =>
  new AddressRefusedError('it leads to a loopback, private, link-local or other non-public address (MEDIA_FETCH_ALLOW_HOSTS can allow such hosts)');
