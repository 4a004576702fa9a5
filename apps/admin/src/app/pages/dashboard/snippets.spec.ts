import { API_KEY_PLACEHOLDER, baseUrlFor, buildSnippets } from './snippets';

describe('quick-start snippets', () => {
  const base = baseUrlFor('http://192.168.1.20:8080/');
  const snippets = buildSnippets(base, 'deepseek-v3');

  it('use this server’s base URL and a real model in all three languages', () => {
    expect(base).toBe('http://192.168.1.20:8080/v1');
    expect(snippets.map((s) => s.id)).toEqual(['python', 'curl', 'javascript']);
    const [python, curl, js] = snippets;
    expect(python!.code).toContain('base_url="http://192.168.1.20:8080/v1"');
    expect(python!.code).toContain('model="deepseek-v3"');
    expect(curl!.code).toContain('curl http://192.168.1.20:8080/v1/chat/completions');
    expect(curl!.code).toContain('"model": "deepseek-v3"');
    expect(js!.code).toContain('fetch("http://192.168.1.20:8080/v1/chat/completions"');
    for (const s of snippets) expect(s.code).toContain(API_KEY_PLACEHOLDER);
  });

  it('the JavaScript snippet is valid JavaScript', () => {
    const js = snippets.find((s) => s.id === 'javascript')!.code;
    expect(() => new Function(`return async () => {${js}}`)).not.toThrow();
  });
});
