import { ApiError } from '../common/api-error.ts';
import { anthropicErrorType, errorEnvelope, isAnthropicPath } from './anthropic-errors.ts';

describe('Anthropic error envelopes', () => {
  it.each([
    ['/v1/messages', true],
    ['/v1/messages/count_tokens', true],
    ['/v1/messages?beta=true', true],
    ['/v1/messagesx', false],
    ['/v1/chat/completions', false],
    ['/api/messages', false],
  ])('%s is a Messages API path: %s', (path, expected) => {
    expect(isAnthropicPath(path)).toBe(expected);
  });

  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [415, 'invalid_request_error'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [502, 'api_error'],
    [503, 'api_error'],
    [504, 'timeout_error'],
    [529, 'overloaded_error'],
  ])('status %i → %s', (status, type) => {
    expect(anthropicErrorType(status)).toBe(type);
  });

  it('keeps OpenAI’s envelope elsewhere, and the attempts on Anthropic’s', () => {
    const attempts = [{ provider: 'DeepInfra', upstream_model: 'm', status: 500, reason: 'HTTP 500', latency_ms: 3 }];
    const error = new ApiError(502, 'All providers failed.', 'upstream_error', 'all_providers_failed', null, attempts);
    expect(errorEnvelope(error, '/v1/chat/completions', 'req_1')).toEqual(error.toEnvelope());
    expect(errorEnvelope(error, '/v1/messages', 'req_1')).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'All providers failed.', attempts },
      request_id: 'req_1',
    });
  });
});
