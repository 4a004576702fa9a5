import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCustomUpstreams } from './custom-upstreams.ts';

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'g4f-upstreams-')), 'providers.yaml');
  writeFileSync(path, text);
  return path;
}

const errorOf = (path: string): string => {
  try {
    loadCustomUpstreams(path, []);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('loadCustomUpstreams errors', () => {
  it('do not quote a key from a file that is not valid YAML', () => {
    const message = errorOf(file('upstreams:\n  - name: Lab\n    apiKey: sk-lab-Zx9Cv8Bn7Mm6Ll5K\n  baseUrl: [unclosed\n'));
    expect(message).toContain('cannot read');
    expect(message).not.toContain('Zx9Cv8Bn7Mm6Ll5K');
  });

  it('mask the credentials of a base URL they reject', () => {
    const message = errorOf(file('upstreams:\n  - name: Lab\n    baseUrl: "http://lab:s3cret-pass@ho st/v1"\n    models: [a]\n'));
    expect(message).toContain('"http://lab:****@ho st/v1" is not a URL');
    expect(message).not.toContain('s3cret');
  });
});
