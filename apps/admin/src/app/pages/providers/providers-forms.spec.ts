import { HttpErrorResponse, HttpHeaders } from '@angular/common/http';
import { provider } from '../../../testing/fixtures';
import {
  formFailure,
  modelMap,
  movesHost,
  priorityProblem,
  proxyProblem,
  settingsPatch,
  settingsValue,
  weightProblem,
  upstreamRequest,
  upstreamValue,
  urlProblem,
} from './providers-forms';

const apiError = (status: number, error: { message: string; param?: string | null; code?: string | null }) =>
  new HttpErrorResponse({
    status,
    headers: new HttpHeaders(),
    error: { error: { type: 'invalid_request_error', param: null, code: null, ...error } },
  });

describe('providers forms', () => {
  it('checks URLs, priorities and proxies', () => {
    expect(urlProblem('')).toBeNull();
    expect(urlProblem('http://127.0.0.1:8000/v1')).toBeNull();
    expect(urlProblem(' https://api.example.com ')).toBeNull();
    expect(urlProblem('127.0.0.1:8000')).toBe('请输入完整的地址，以 http:// 或 https:// 开头');
    expect(urlProblem('not a url')).toBe('请输入完整的地址，以 http:// 或 https:// 开头');
    expect(urlProblem('http://exa mple.com')).toBe('地址的格式不对，如 http://127.0.0.1:8000/v1');
    expect(urlProblem('ftp://x')).toBe('只支持 http:// 或 https:// 开头的地址');
    expect(priorityProblem('')).toBeNull();
    expect(priorityProblem('0')).toBeNull();
    expect(priorityProblem('12')).toBeNull();
    expect(priorityProblem('-1')).toContain('正整数');
    expect(priorityProblem('1.5')).toContain('正整数');
    // A proxy shown with its password hidden may stay as it is, not be edited around the stars.
    expect(proxyProblem('http://me:****@proxy:7890', true)).toBeNull();
    expect(proxyProblem('http://me:****@proxy:7891', false)).toContain('代理密码已隐藏');
    expect(proxyProblem('http://me:pw@proxy:7891', false)).toBeNull();
    expect(proxyProblem('socks', false)).not.toBeNull();
  });

  it('tells a move to another host (scheme, host or port) from a new path', () => {
    expect(movesHost('https://api.example/v1', 'https://api.example/v2')).toBe(false);
    expect(movesHost('https://api.example/v1', 'https://API.example:443/v1')).toBe(false);
    expect(movesHost('https://api.example/v1', 'http://api.example/v1')).toBe(true);
    expect(movesHost('https://api.example/v1', 'https://api.example:8443/v1')).toBe(true);
    expect(movesHost('https://api.example/v1', 'https://other.example/v1')).toBe(true);
    expect(movesHost('https://api.example/v1', 'not a url')).toBe(false);
  });

  describe('provider settings', () => {
    const p = provider('CloudflareAI', 'available', {
      baseUrl: 'https://api.cloudflare.com/client/v4',
      proxy: 'http://me:****@proxy:7890',
      priority: 2,
      extra: { accountId: 'acct-1' },
      requiredExtra: ['accountId'],
    });

    it('fills the form from the provider', () => {
      expect(settingsValue(p)).toEqual({
        baseUrl: 'https://api.cloudflare.com/client/v4',
        proxy: 'http://me:****@proxy:7890',
        priority: '2',
        weight: '',
        extra: { accountId: 'acct-1' },
      });
      expect(settingsValue(provider('X'))).toMatchObject({ proxy: '', priority: '', weight: '' });
      // A weight set in the console is shown; emptying it sends null (back to 1); 0 is a weight.
      const weighted = provider('Y', 'available', { weight: 3, overridden: ['weight'] });
      expect(settingsValue(weighted).weight).toBe('3');
      expect(settingsPatch(weighted, { ...settingsValue(weighted), weight: '' })).toEqual({ weight: null });
      expect(settingsPatch(provider('Z'), { ...settingsValue(provider('Z')), weight: '0' })).toEqual({ weight: 0 });
      expect(weightProblem('101')).toMatch(/0 到 100/);
      expect(weightProblem('7')).toBeNull();
    });

    it('sends only what changed', () => {
      expect(settingsPatch(p, settingsValue(p))).toEqual({});
      expect(settingsPatch(p, { ...settingsValue(p), baseUrl: ' http://127.0.0.1:9/v4 ', priority: '0' })).toEqual({
        baseUrl: 'http://127.0.0.1:9/v4',
        priority: 0,
      });
      expect(settingsPatch(p, { ...settingsValue(p), extra: { accountId: 'acct-2', region: '' } })).toEqual({ extra: { accountId: 'acct-2' } });
    });

    it('an emptied proxy or priority clears the console setting (null); an emptied address is not sent', () => {
      expect(settingsPatch(p, { ...settingsValue(p), proxy: '', priority: ' ' })).toEqual({ proxy: null, priority: null });
      expect(settingsPatch(p, { ...settingsValue(p), baseUrl: '' })).toEqual({});
      expect(settingsPatch(provider('X'), { ...settingsValue(provider('X')), proxy: 'http://p:1' })).toEqual({ proxy: 'http://p:1' });
    });
  });

  describe('upstreams', () => {
    it('starts a new one with one empty model row', () => {
      expect(upstreamValue()).toEqual({ name: '', baseUrl: '', ownedBy: '', priority: '', proxy: '', models: [{ id: '', upstream: '' }], samplingParams: [] });
    });

    it('fills the form from an upstream; a model mapped to itself shows an empty upstream id', () => {
      const p = provider('Home', 'available', {
        custom: true,
        baseUrl: 'http://127.0.0.1:11434/v1',
        priority: 1,
        upstream: { source: 'console', ownedBy: 'Me', models: { 'home-llama': 'llama3.2', 'qwen2.5:7b': 'qwen2.5:7b' }, samplingParams: ['min_p', 'top_k'] },
      });
      expect(upstreamValue(p)).toEqual({
        name: 'Home',
        baseUrl: 'http://127.0.0.1:11434/v1',
        ownedBy: 'Me',
        priority: '1',
        proxy: '',
        models: [
          { id: 'home-llama', upstream: 'llama3.2' },
          { id: 'qwen2.5:7b', upstream: '' },
        ],
        samplingParams: ['min_p', 'top_k'],
      });
    });

    it('reads the model rows: empty rows skipped, an empty upstream id is the same id, problems said', () => {
      expect(
        modelMap([
          { id: ' a ', upstream: ' b ' },
          { id: '', upstream: '' },
          { id: 'c', upstream: '' },
        ]),
      ).toEqual({ models: { a: 'b', c: 'c' }, problem: null });
      expect(modelMap([{ id: '', upstream: '' }]).problem).toBe('至少添加一个模型');
      expect(modelMap([{ id: '', upstream: 'x' }]).problem).toBe('请填写上游模型「x」对应的网关模型 ID');
      expect(modelMap([{ id: 'a b', upstream: '' }]).problem).toContain('不能包含空白');
      expect(
        modelMap([
          { id: 'a', upstream: '1' },
          { id: 'a', upstream: '2' },
        ]).problem,
      ).toBe('网关模型 ID「a」重复了');
    });

    it('makes the request: optional fields only when filled', () => {
      const v = { ...upstreamValue(), name: ' Home ', baseUrl: 'http://h/v1 ', models: [{ id: 'm', upstream: '' }] };
      expect(upstreamRequest(v)).toEqual({ name: 'Home', baseUrl: 'http://h/v1', models: { m: 'm' } });
      expect(upstreamRequest({ ...v, ownedBy: 'Me', priority: '3', proxy: 'http://p:1' })).toEqual({
        name: 'Home',
        baseUrl: 'http://h/v1',
        models: { m: 'm' },
        ownedBy: 'Me',
        priority: 3,
        proxy: 'http://p:1',
      });
      // The ticked sampling fields go in the gateway's order, whatever order they were ticked in.
      expect(upstreamRequest({ ...v, samplingParams: ['min_p', 'top_k'] })).toEqual({
        name: 'Home',
        baseUrl: 'http://h/v1',
        models: { m: 'm' },
        samplingParams: ['top_k', 'min_p'],
      });
    });
  });

  describe('API errors', () => {
    it('puts a 400 that names a field of the form under that field', () => {
      const err = apiError(400, { message: "Invalid value for 'baseUrl': must be a URL address.", param: 'baseUrl', code: 'invalid_value' });
      expect(formFailure(err, ['baseUrl'])).toMatchObject({
        field: 'baseUrl',
        message: "服务器拒绝了这个请求：Invalid value for 'baseUrl': must be a URL address.",
      });
      // A field this form does not have: the form as a whole.
      expect(formFailure(err, ['name']).field).toBeNull();
      // Nested params belong to their top field.
      expect(formFailure(apiError(400, { message: 'x', param: 'models.a' }), ['models']).field).toBe('models');
    });

    it('says what known refusals mean', () => {
      expect(formFailure(apiError(409, { message: 'exists', param: 'name', code: 'provider_exists' }), ['name'])).toMatchObject({
        field: 'name',
        message: '已有同名的提供商（内置提供商或另一个上游），请换一个名字。',
      });
      expect(formFailure(apiError(400, { message: 'ro', param: 'id', code: 'key_read_only' }), []).message).toContain('只能在那里删除');
      // A 404 is not the field's fault, even when it names one.
      expect(formFailure(apiError(404, { message: 'gone', param: 'name', code: 'provider_not_found' }), ['name'])).toMatchObject({
        field: null,
        message: '这个提供商已不存在（可能刚被删除）。',
      });
    });

    it('passes on the other failures', () => {
      expect(formFailure(new HttpErrorResponse({ status: 0 }), ['name'])).toMatchObject({ field: null, message: expect.stringContaining('无法连接到服务器') });
      expect(formFailure(apiError(500, { message: 'boom' }), []).message).toContain('HTTP 500');
      expect(formFailure(new Error('x'), []).message).toBe('发生了意外错误，请稍后重试。');
    });
  });
});
