import { apiAccessNotice } from './api-access';

const plain = (mode: Parameters<typeof apiAccessNotice>[0]) =>
  apiAccessNotice(mode)
    ?.parts.map((p) => p.text)
    .join('');

describe('the dashboard’s /v1 access notice', () => {
  it('local: says the API is only open to this machine and how to open it', () => {
    expect(apiAccessNotice('local')?.tone).toBe('info');
    const text = plain('local')!;
    expect(text).toContain('只对本机开放');
    expect(text).toContain('403');
    expect(text).toContain('API 密钥');
    expect(text).toContain('API_KEY');
    expect(text).toContain('ALLOW_OPEN_API=true');
    expect(
      apiAccessNotice('local')!
        .parts.filter((p) => p.code)
        .map((p) => p.text),
    ).toContain('ALLOW_OPEN_API=true');
  });

  it('open: warns that anyone can use it without a key', () => {
    expect(apiAccessNotice('open')?.tone).toBe('warning');
    expect(plain('open')).toContain('对所有人开放且无需密钥');
  });

  it('nothing to say once a key is required, or before the answer arrives', () => {
    expect(apiAccessNotice('key')).toBeNull();
    expect(apiAccessNotice(undefined)).toBeNull();
  });
});
