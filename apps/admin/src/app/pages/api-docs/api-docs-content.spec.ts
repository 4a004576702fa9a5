import { API_KEY_PLACEHOLDER } from '../dashboard/snippets';
import {
  ADMIN_ENDPOINTS,
  DOC_SECTIONS,
  ONEAPI_COMPOSE_BASE_URL,
  SAMPLE_CHAT_MODEL,
  V1_ENDPOINTS,
  adminSample,
  chatSamples,
  imageSamples,
  modelsSamples,
  oneApiChannel,
  originOf,
  speechSamples,
} from './api-docs-content';

const BASE = 'http://192.168.1.20:8080/v1';

describe('API 文档 content', () => {
  it('derives the origin from the base URL', () => {
    expect(originOf(BASE)).toBe('http://192.168.1.20:8080');
    expect(originOf('https://ai.example.com/v1/')).toBe('https://ai.example.com');
  });

  it('fills every sample with this server’s base URL, in Python, cURL and JavaScript', () => {
    const all = { chat: chatSamples(BASE), models: modelsSamples(BASE), images: imageSamples(BASE), speech: speechSamples(BASE) };
    for (const [name, samples] of Object.entries(all)) {
      expect([name, samples.map((s) => s.id)]).toEqual([name, ['python', 'curl', 'javascript']]);
      for (const s of samples) {
        expect(s.code).toContain(BASE);
        expect(s.code).toContain(API_KEY_PLACEHOLDER);
        expect(s.code).not.toContain('localhost');
      }
    }
    expect(all.chat[0]!.code).toContain(`base_url="${BASE}"`);
    expect(all.chat[0]!.code).toContain(`model="${SAMPLE_CHAT_MODEL}"`);
    expect(all.models[1]!.code).toContain(`curl ${BASE}/models`);
    expect(all.images[1]!.code).toContain(`curl ${BASE}/images/generations`);
    expect(all.speech[1]!.code).toContain(`curl ${BASE}/audio/speech`);
    expect(all.speech[1]!.code).toContain('--output');
  });

  it('writes JavaScript that parses', () => {
    for (const samples of [chatSamples(BASE), modelsSamples(BASE), imageSamples(BASE)]) {
      const js = samples.find((s) => s.id === 'javascript')!.code;
      expect(() => new Function(`return async () => {${js}}`)).not.toThrow();
    }
    // The speech sample is an ES module (it imports node:fs/promises): check it without the import.
    const speech = speechSamples(BASE)
      .find((s) => s.id === 'javascript')!
      .code.replace(/^import .*$/m, '');
    expect(() => new Function(`return async () => {${speech}}`)).not.toThrow();
  });

  it('logs in to the admin API at the origin, not under /v1', () => {
    const code = adminSample('http://pool:8080').code;
    expect(code).toContain('curl -s http://pool:8080/api/auth/login');
    expect(code).toContain('Authorization: Bearer $TOKEN');
    expect(code).not.toContain('/v1');
  });

  it('gives one-api the origin without /v1, and the compose network address', () => {
    const channel = oneApiChannel('http://192.168.1.20:8080');
    expect(channel.map((f) => f.field)).toEqual(['类型', '名称', 'Base URL', '密钥', '模型']);
    expect(channel[0]!.value).toBe('OpenAI');
    expect(channel[2]!.value).toBe('http://192.168.1.20:8080');
    expect(channel[2]!.note).toContain(ONEAPI_COMPOSE_BASE_URL);
    expect(channel[2]!.note).toContain('不要带 /v1');
    expect(ONEAPI_COMPOSE_BASE_URL).toBe('http://freeapi-pool:8080');
  });

  it('has unique section ids and lists the four OpenAI endpoints and the admin API', () => {
    const ids = DOC_SECTIONS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['chat', 'models', 'images', 'speech', 'admin', 'one-api']));
    const v1 = V1_ENDPOINTS.map((e) => `${e.method} ${e.path}`);
    expect(v1).toEqual(expect.arrayContaining(['POST /v1/chat/completions', 'GET /v1/models', 'POST /v1/images/generations', 'POST /v1/audio/speech']));
    const admin = ADMIN_ENDPOINTS.flatMap((g) => g.rows.map((r) => r.path));
    for (const path of [
      '/api/auth/login',
      '/api/providers',
      '/api/models',
      '/api/discovery/refresh',
      '/api/models/{id}/routes/{provider}/pin',
      '/api/keys',
      '/api/stats',
      '/api/logs',
    ]) {
      expect(admin).toContain(path);
    }
  });
});
