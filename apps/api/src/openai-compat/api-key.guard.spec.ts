import { isLoopback, isMetered, modelAllowed, openApiAllows } from './api-key.guard.ts';

describe('isLoopback', () => {
  it('is 127.0.0.0/8, ::1 and their mapped forms; nothing else', () => {
    for (const ip of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect({ ip, loopback: isLoopback(ip) }).toEqual({ ip, loopback: true });
    for (const ip of ['10.0.0.1', '203.0.113.7', '::ffff:10.0.0.1', 'fe80::1', '', undefined, '127.0.0.1.evil']) {
      expect({ ip, loopback: isLoopback(ip) }).toEqual({ ip, loopback: false });
    }
  });
});

describe('openApiAllows (no API_KEY, no client key)', () => {
  const closed = { allowOpenApi: false, trustProxy: false as const };

  it('lets a client on this machine in, and no one else', () => {
    expect(openApiAllows({ socket: '127.0.0.1', ip: '127.0.0.1', forwarded: false }, closed)).toBe(true);
    expect(openApiAllows({ socket: '::1', ip: '::1', forwarded: false }, closed)).toBe(true);
    expect(openApiAllows({ socket: '192.168.1.20', ip: '192.168.1.20', forwarded: false }, closed)).toBe(false);
    expect(openApiAllows({ socket: '172.17.0.1', ip: '172.17.0.1', forwarded: false }, closed)).toBe(false);
    expect(openApiAllows({ socket: undefined, ip: undefined, forwarded: false }, closed)).toBe(false);
  });

  it('without TRUST_PROXY, a loopback socket relaying someone (forwarding headers) is not a local client', () => {
    expect(openApiAllows({ socket: '127.0.0.1', ip: '127.0.0.1', forwarded: true }, closed)).toBe(false);
  });

  it('with TRUST_PROXY, decides on the address the proxy reports (req.ip)', () => {
    const proxied = { allowOpenApi: false, trustProxy: ['loopback'] };
    expect(openApiAllows({ socket: '127.0.0.1', ip: '127.0.0.1', forwarded: true }, proxied)).toBe(true);
    expect(openApiAllows({ socket: '127.0.0.1', ip: '203.0.113.7', forwarded: true }, proxied)).toBe(false);
  });

  it('with TRUST_PROXY, a trusted peer elsewhere cannot claim to relay a loopback client', () => {
    const cluster = { allowOpenApi: false, trustProxy: ['uniquelocal'] };
    expect(openApiAllows({ socket: '10.1.2.3', ip: '127.0.0.1', forwarded: true }, cluster)).toBe(false);
  });

  it('ALLOW_OPEN_API=true lets everyone in', () => {
    expect(openApiAllows({ socket: '203.0.113.7', ip: '203.0.113.7', forwarded: false }, { allowOpenApi: true, trustProxy: false })).toBe(true);
  });
});

describe('allowed models', () => {
  it('the requested id or the model an alias names, with globs, case-insensitively; [] allows all', () => {
    expect(modelAllowed([], 'anything', undefined)).toBe(true);
    expect(modelAllowed(['gpt-4o*'], 'GPT-4o-mini', 'gpt-4o-mini')).toBe(true);
    expect(modelAllowed(['gpt-4o-mini'], 'house-model', 'gpt-4o-mini')).toBe(true);
    expect(modelAllowed(['house-model'], 'house-model', 'gpt-4o-mini')).toBe(true);
    expect(modelAllowed(['house-model'], 'gpt-4o-mini', 'gpt-4o-mini')).toBe(false);
    expect(modelAllowed(['llama-*'], 'gpt-4o', undefined)).toBe(false);
  });
});

describe('isMetered', () => {
  it('POSTs that reach upstreams count against quotas and concurrency; GETs and token counting do not', () => {
    for (const path of ['/v1/chat/completions', '/v1/responses', '/v1/messages', '/v1/images/generations', '/v1/audio/speech', '/v1/embeddings'])
      expect([path, isMetered({ method: 'POST', path })]).toEqual([path, true]);
    for (const [method, path] of [
      ['GET', '/v1/models'],
      ['GET', '/v1/key'],
      ['GET', '/v1/dashboard/billing/usage'],
      ['DELETE', '/v1/responses/resp_1'],
      ['POST', '/v1/messages/count_tokens'],
      ['POST', '/v1/messages/count_tokens/'],
    ])
      expect([method, path, isMetered({ method: method!, path: path! })]).toEqual([method, path, false]);
  });
});
