import { MAX_SCRUBBED_TEXT, SecretScrubber, maskSecret, maskUrlCredentials, originOf, restoreUrlCredentials, urlCredentials } from './redact.ts';
import { cpuMs } from '../../../../test/support/cpu-time.ts';

const KEY = 'di-live-7fK2qX9mZ4wP0001';

describe('SecretScrubber', () => {
  let sut: SecretScrubber;
  beforeEach(() => {
    sut = new SecretScrubber();
    sut.set('test', [KEY, 'proxy-pass-42', 'short']);
  });

  it('replaces every configured secret, showing at most its last 4 characters', () => {
    const out = sut.scrub(`Invalid API key ${KEY}. Key "${KEY}" was revoked; proxy-pass-42 too`);
    expect(out).toBe('Invalid API key ****0001. Key "****0001" was revoked; **** too');
  });

  it('does not scrub secrets too short to tell from words, nor mangle ordinary text', () => {
    const text = 'The short answer: model `gpt-4o-mini` does not exist (task-force sk-learn bearer of news, max_tokens=4096)';
    expect(sut.scrub(text)).toBe(text);
  });

  it('replaces key-shaped tokens nobody configured', () => {
    const text = [
      'sk-proj-AbC123dEf456GhI789jKl',
      'Incorrect API key provided: sk-abc*************************wxyz',
      'hf_AbCdEfGh1234567890IjKl',
      'Authorization: Bearer eyJhbGciOi1234.x.y',
      '{"api_key": "a1b2c3d4e5f6"}',
      'password=hunter2hunter2',
      'AIzaSyA-1234567890abcdefghijklmnopqrstu',
      'via http://user:p4ss@proxy.local:3128/',
    ].join(' | ');
    const out = sut.scrub(text);
    for (const leak of ['AbC123', 'wxyz', 'AbCdEf', 'eyJhbG', 'a1b2c3', 'hunter2', 'SyA-12', 'p4ss', 'user:']) expect(out).not.toContain(leak);
    expect(out).toContain('sk-****');
    expect(out).toContain('Bearer ****');
    expect(out).toContain('http://****@proxy.local');
  });

  it('replaces the first part of a secret left at the end of a text cut short', () => {
    expect(sut.scrub(`upstream said: invalid key ${KEY.slice(0, 12)}…`)).toBe('upstream said: invalid key ****…');
  });

  it('cuts long text to the bound, a secret across the cut replaced whole', () => {
    const text = 'x'.repeat(MAX_SCRUBBED_TEXT - 5) + KEY + 'y'.repeat(10_000);
    const out = sut.scrub(text);
    expect(out.length).toBe(MAX_SCRUBBED_TEXT);
    expect(out).not.toContain(KEY.slice(0, 6));
    expect(out.endsWith('…')).toBe(true);
  });

  it('takes linear time on adversarial text', () => {
    // 200 OpenAI project keys share their first 8 characters; the text repeats them everywhere.
    for (let i = 0; i < 200; i++) sut.set(`owner-${i}`, [`sk-proj-${String(i).padStart(4, '0')}AbCdEfGhIjKlMnOp`]);
    const inputs = [
      'a'.repeat(MAX_SCRUBBED_TEXT),
      'a://'.repeat(1024),
      'sk-'.repeat(1365),
      'sk-proj-'.repeat(512),
      'Bearer '.repeat(585),
      'token='.repeat(682),
    ];
    // ~1 ms each; quadratic behaviour would take seconds.
    expect(cpuMs(() => inputs.forEach((text) => Array.from({ length: 20 }, () => sut.scrub(text))))).toBeLessThan(500);
  });

  it('forgets an owner’s secrets when it is removed or replaced', () => {
    sut.set('test', ['another-secret-1']);
    expect(sut.scrub(KEY)).toBe(KEY);
    expect(sut.scrub('another-secret-1')).toBe('****et-1');
    sut.delete('test');
    expect(sut.size).toBe(0);
  });
});

describe('masks', () => {
  it('show at most 4 characters of a secret', () => {
    expect(maskSecret(KEY)).toBe('****0001');
    expect(maskSecret('sk-abcdefghij')).toBe('****');
  });

  it('hide URL credentials, keeping a plain user name next to a password', () => {
    expect(maskUrlCredentials('http://me:secret@127.0.0.1:9')).toBe('http://me:****@127.0.0.1:9');
    expect(maskUrlCredentials('https://sk-live-AbC123dEf456GhI789@api.example/v1')).toBe('https://****@api.example/v1');
    expect(maskUrlCredentials('https://sk-live-AbC123dEf456GhI789:x@api.example/v1')).toBe('https://****:****@api.example/v1');
    expect(maskUrlCredentials('https://api.example/v1?u=a@b')).toBe('https://api.example/v1?u=a@b');
    expect(maskUrlCredentials(undefined)).toBeNull();
  });

  it('stand for the stored credentials when sent back, on the same origin only', () => {
    const stored = 'http://me:s3cret-pass@127.0.0.1:9/v1';
    expect(restoreUrlCredentials('http://me:****@127.0.0.1:9/v2', stored)).toBe('http://me:s3cret-pass@127.0.0.1:9/v2');
    expect(restoreUrlCredentials('http://me:****@evil.example:9/v1', stored)).toBeUndefined();
    expect(restoreUrlCredentials('http://you:****@127.0.0.1:9/v1', stored)).toBeUndefined();
    expect(restoreUrlCredentials('http://me:****@127.0.0.1:9/v1', undefined)).toBeUndefined();
    expect(restoreUrlCredentials('http://me:new-pass@127.0.0.1:9/v1', stored)).toBe('http://me:new-pass@127.0.0.1:9/v1');
  });

  it('find URL credentials raw and decoded, and compare origins without them', () => {
    expect(urlCredentials('https://us%40er:p%3Ass@host/v1')).toEqual(['us%40er', 'p%3Ass', 'us@er', 'p:ss']);
    expect(urlCredentials('https://host/v1')).toEqual([]);
    expect(originOf('https://u:p@Host.example:443/v1')).toBe('https://host.example');
  });
});
