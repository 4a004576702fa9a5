import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBox } from './secret-box.ts';

describe('SecretBox', () => {
  it('round-trips a secret and never stores it in the clear', () => {
    const sut = SecretBox.fromConfig('master', '/nonexistent');
    const sealed = sut.seal('sk-very-secret-key');
    expect(sealed).not.toContain('sk-very-secret-key');
    expect(sut.open(sealed)).toBe('sk-very-secret-key');
    expect(sut.seal('x')).not.toBe(sut.seal('x'));
  });

  it('refuses a box sealed with another master key, or tampered with', () => {
    const sealed = SecretBox.fromConfig('one', '/nonexistent').seal('secret');
    expect(() => SecretBox.fromConfig('two', '/nonexistent').open(sealed)).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('other').toString('base64url');
    expect(() => SecretBox.fromConfig('one', '/nonexistent').open(parts.join('.'))).toThrow();
  });

  it('without SECRET_KEY keeps a generated master key in DATA_DIR, readable by the owner only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'g4f-box-'));
    const sealed = SecretBox.fromConfig(undefined, dir).seal('kept');
    expect(SecretBox.fromConfig(undefined, dir).open(sealed)).toBe('kept');
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(join(dir, 'secret.key'), 'utf8'), 'base64')).toHaveLength(32);
  });
});
