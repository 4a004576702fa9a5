import type { LookupAddress } from 'node:dns';
import { AddressGuard, AddressRefusedError, embeddedIPv4, isPublicAddress } from './public-address.ts';

describe('isPublicAddress', () => {
  it('refuses loopback, private, CGNAT, link-local (metadata), unspecified, multicast and reserved IPv4', () => {
    for (const ip of [
      '127.0.0.1',
      '127.255.0.9',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '100.64.0.1',
      '100.127.255.254',
      '169.254.169.254',
      '169.254.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '239.255.255.250',
      '240.0.0.1',
      '255.255.255.255',
      '198.18.0.1',
    ]) {
      expect({ ip, public: isPublicAddress(ip) }).toEqual({ ip, public: false });
    }
  });

  it('refuses loopback, ULA, link-local, unspecified and multicast IPv6, and every IPv4-in-IPv6 form of a private address', () => {
    for (const ip of [
      '::1',
      '::',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      'fe80::1%eth0',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
      '0:0:0:0:0:ffff:10.0.0.1',
      '64:ff9b::10.0.0.1',
      '2002:c0a8:0101::1',
      '::127.0.0.1',
    ]) {
      expect({ ip, public: isPublicAddress(ip) }).toEqual({ ip, public: false });
    }
  });

  it('lets public addresses through, IPv4, IPv6 and mapped', () => {
    for (const ip of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808']) {
      expect({ ip, public: isPublicAddress(ip) }).toEqual({ ip, public: true });
    }
  });

  it('is false for anything that is not an IP address', () => {
    expect(isPublicAddress('example.com')).toBe(false);
    expect(isPublicAddress('')).toBe(false);
  });

  it('reads the IPv4 address carried by mapped, NAT64 and 6to4 addresses', () => {
    expect(embeddedIPv4('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(embeddedIPv4('64:ff9b::a9fe:a9fe')).toBe('169.254.169.254');
    expect(embeddedIPv4('2002:0a00:0001::')).toBe('10.0.0.1');
    expect(embeddedIPv4('2606:4700::1')).toBeUndefined();
  });
});

describe('AddressGuard', () => {
  const lookup = (guard: AddressGuard, host: string, all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[] }>((resolve) =>
      guard.lookup(host, { all } as never, (err, address) => resolve({ err, address })),
    );

  it('refuses non-http(s) schemes and private IP literals; allows what MEDIA_FETCH_ALLOW_HOSTS lists', () => {
    const closed = new AddressGuard([]);
    expect(() => closed.checkUrl(new URL('http://127.0.0.1:8080/x'))).toThrow(AddressRefusedError);
    expect(() => closed.checkUrl(new URL('http://[::ffff:169.254.169.254]/latest/meta-data'))).toThrow(AddressRefusedError);
    expect(() => closed.checkUrl(new URL('http://0x7f000001/'))).toThrow(AddressRefusedError); // WHATWG URL reads it as 127.0.0.1
    expect(() => closed.checkUrl(new URL('file:///etc/passwd'))).toThrow(/not http\(s\)/);
    expect(() => closed.checkUrl(new URL('https://8.8.8.8/img.png'))).not.toThrow();

    const open = new AddressGuard(['127.0.0.1', '10.0.0.0/8', 'Images.Internal', 'fd00::/8']);
    expect(() => open.checkUrl(new URL('http://127.0.0.1:8080/x'))).not.toThrow();
    expect(open.allowsAddress('10.9.9.9')).toBe(true);
    expect(open.allowsAddress('::ffff:10.9.9.9')).toBe(true);
    expect(open.allowsAddress('fd00::5')).toBe(true);
    expect(open.allowsAddress('127.0.0.2')).toBe(false);
    expect(open.allowsAddress('192.168.0.1')).toBe(false);
    expect(open.allowsHost('images.internal.')).toBe(true);
  });

  it('checks the addresses a name resolves to, in the socket lookup itself', async () => {
    const refused = await lookup(new AddressGuard([]), 'localhost', true);
    expect(refused.err).toBeInstanceOf(AddressRefusedError);
    expect(refused.err!.message).toContain('MEDIA_FETCH_ALLOW_HOSTS');

    const byAddress = await lookup(new AddressGuard(['127.0.0.1', '::1']), 'localhost', false);
    expect(byAddress.err).toBeNull();
    expect(['127.0.0.1', '::1']).toContain(byAddress.address);

    const byName = await lookup(new AddressGuard(['localhost']), 'localhost', true);
    expect(byName.err).toBeNull();
    expect((byName.address as LookupAddress[]).length).toBeGreaterThan(0);
  });

  it('through a proxy, resolves the name before the request', async () => {
    await expect(new AddressGuard([]).vet(new URL('http://localhost/x.png'), true)).rejects.toBeInstanceOf(AddressRefusedError);
    await expect(new AddressGuard(['localhost']).vet(new URL('http://localhost/x.png'), true)).resolves.toBeUndefined();
  });
});
