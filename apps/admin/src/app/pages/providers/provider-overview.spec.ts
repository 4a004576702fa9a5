import { attempt, logEntry } from '../logs/logs.fixtures';
import { failureLine } from './provider-overview';

describe('provider overview', () => {
  it('says why each failed request failed at this provider, in Chinese', () => {
    const entry = logEntry('r1', {
      status: 502,
      provider: null,
      model: 'llama-3.3-70b',
      error: 'Every provider failed',
      attempts: [
        attempt('HuggingFace', 500, 'HTTP 500: boom', { code: 'upstream_5xx' }),
        attempt('Together', null, 'timeout: no answer', { code: 'upstream_timeout' }),
      ],
    });
    expect(failureLine(entry, 'huggingface')).toEqual({ at: entry.startedAt, model: 'llama-3.3-70b', status: 502, text: '上游服务器错误（HTTP 500）' });
    expect(failureLine(entry, 'Together').text).toBe('上游超时：在限定时间内没有回应');
    // No attempt of its own (refused before any was sent): the request's own reason.
    expect(failureLine({ ...entry, attempts: [] }, 'Together').text).toBe('所有提供商都失败了');
  });
});
