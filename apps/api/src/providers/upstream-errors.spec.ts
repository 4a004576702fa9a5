import { upstreamVerdict } from './upstream-errors.ts';

describe('upstreamVerdict: a 4xx that judges the request, not the provider', () => {
  it.each([
    [
      400,
      '{"error":{"message":"This model\'s maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}',
    ],
    [400, '{"detail":"Input is too long for requested model."}'],
    [413, 'prompt is too long: 210000 tokens > 200000 maximum'],
    [422, '{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Please reduce the length of the messages"}'],
  ])('%i %s is context_length_exceeded', (status, body) => {
    expect(upstreamVerdict(status, body)).toBe('context_length_exceeded');
  });

  it.each([
    [400, '{"error":{"message":"The response was filtered due to the prompt triggering content management policy.","code":"content_filter"}}'],
    [400, '{"error":{"message":"Your request was rejected as a result of our safety system.","code":"content_policy_violation"}}'],
  ])('%i %s is content_policy_violation', (status, body) => {
    expect(upstreamVerdict(status, body)).toBe('content_policy_violation');
  });

  it.each([
    [400, '{"error":{"message":"this provider dislikes the request"}}'],
    [404, '{"error":"Model not found"}'],
    // Key and rate problems are about the key, and 5xx about the provider: never a verdict.
    [429, 'Too many tokens per minute'],
    [401, 'content policy'],
    [500, 'context length exceeded while loading'],
  ])('%i %s is no verdict', (status, body) => {
    expect(upstreamVerdict(status, body)).toBeUndefined();
  });
});
