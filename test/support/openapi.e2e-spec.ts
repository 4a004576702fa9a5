import { expectSchema, validateSchema } from './openapi.ts';

const chatCompletion = () => ({
  id: 'chatcmpl-abc123',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hello!', refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: {
    prompt_tokens: 9,
    completion_tokens: 3,
    total_tokens: 12,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  },
  service_tier: 'default',
  system_fingerprint: 'fp_123',
});

const chunk = () => ({
  id: 'chatcmpl-abc123',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  system_fingerprint: 'fp_123',
  choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, logprobs: null, finish_reason: null }],
});

describe('test/support/openapi', () => {
  // The first call parses the 3 MB YAML (~0.7-1 s) and compiles the schema.
  beforeAll(() => {
    expect(validateSchema('CreateChatCompletionResponse', chatCompletion()).valid).toBe(true);
  }, 30_000);

  describe('CreateChatCompletionResponse', () => {
    it('accepts a correct chat.completion', () => {
      expectSchema('CreateChatCompletionResponse', chatCompletion());
      expect(validateSchema('CreateChatCompletionResponse', chatCompletion())).toEqual({ valid: true, errors: [] });
    });

    it('accepts tool calls with content null', () => {
      const value = chatCompletion();
      value.choices[0] = {
        ...value.choices[0],
        finish_reason: 'tool_calls',
        message: {
          role: 'assistant',
          content: null as unknown as string,
          refusal: null,
          annotations: [],
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        } as (typeof value.choices)[0]['message'],
      };
      expectSchema('CreateChatCompletionResponse', value);
    });

    it('rejects a response missing choices', () => {
      const { choices: _choices, ...value } = chatCompletion();
      const result = validateSchema('CreateChatCompletionResponse', value);
      expect(result.valid).toBe(false);
      expect(result.errors.join('\n')).toContain("must have required property 'choices'");
    });

    it("rejects object: 'chat.completion.x'", () => {
      const result = validateSchema('CreateChatCompletionResponse', { ...chatCompletion(), object: 'chat.completion.x' });
      expect(result.valid).toBe(false);
      expect(result.errors.join('\n')).toMatch(/^\/object must be equal to one of the allowed values/m);
    });

    it('rejects created as a string', () => {
      const result = validateSchema('CreateChatCompletionResponse', { ...chatCompletion(), created: '1700000000' });
      expect(result.valid).toBe(false);
      expect(result.errors.join('\n')).toMatch(/^\/created must be integer/m);
    });

    it('expectSchema throws listing every violation with its path', () => {
      const { choices: _choices, ...value } = { ...chatCompletion(), created: 'now', object: 'chat.completion.x' };
      let message = '';
      try {
        expectSchema('CreateChatCompletionResponse', value);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain("(root) must have required property 'choices'");
      expect(message).toContain('/created must be integer');
      expect(message).toContain('/object must be equal to one of the allowed values');
      expect(message).toContain('3 violation(s)');
    });

    it('requires choices[].logprobs, message.refusal and message.content (each may be null)', () => {
      const noLogprobs = chatCompletion();
      delete (noLogprobs.choices[0] as Partial<(typeof noLogprobs.choices)[0]>).logprobs;
      expect(validateSchema('CreateChatCompletionResponse', noLogprobs).errors).toEqual([
        expect.stringContaining("/choices/0 must have required property 'logprobs'"),
      ]);

      const noRefusal = chatCompletion();
      delete (noRefusal.choices[0].message as Partial<(typeof noRefusal.choices)[0]['message']>).refusal;
      expect(validateSchema('CreateChatCompletionResponse', noRefusal).errors).toEqual([
        expect.stringContaining("/choices/0/message must have required property 'refusal'"),
      ]);

      const noContent = chatCompletion();
      delete (noContent.choices[0].message as Partial<(typeof noContent.choices)[0]['message']>).content;
      expect(validateSchema('CreateChatCompletionResponse', noContent).valid).toBe(false);
    });

    it('rejects finish_reason null or an unknown finish_reason in a non-streamed completion', () => {
      for (const finishReason of [null, 'eos', 'error']) {
        const value = chatCompletion();
        (value.choices[0] as { finish_reason: unknown }).finish_reason = finishReason;
        expect(validateSchema('CreateChatCompletionResponse', value).valid).toBe(false);
      }
    });

    it('rejects a service_tier outside the spec enum (e.g. Groq "on_demand") but accepts null', () => {
      expect(validateSchema('CreateChatCompletionResponse', { ...chatCompletion(), service_tier: 'on_demand' }).valid).toBe(false);
      expect(validateSchema('CreateChatCompletionResponse', { ...chatCompletion(), service_tier: null }).valid).toBe(true);
    });

    it('requires integer usage token counts', () => {
      const value = chatCompletion();
      (value.usage as { total_tokens: unknown }).total_tokens = '12';
      expect(validateSchema('CreateChatCompletionResponse', value).valid).toBe(false);
    });

    it('allows extra fields such as reasoning_content (no additionalProperties: false)', () => {
      const value = chatCompletion();
      Object.assign(value.choices[0].message, { reasoning_content: 'thinking...' });
      Object.assign(value, { provider: 'x' });
      expectSchema('CreateChatCompletionResponse', value);
    });
  });

  describe('CreateChatCompletionStreamResponse', () => {
    it('accepts a correct chat.completion.chunk', () => {
      expectSchema('CreateChatCompletionStreamResponse', chunk());
    });

    it('accepts a finish chunk and a delta with reasoning_content', () => {
      expectSchema('CreateChatCompletionStreamResponse', {
        ...chunk(),
        choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }],
      });
      expectSchema('CreateChatCompletionStreamResponse', {
        ...chunk(),
        choices: [{ index: 0, delta: { reasoning_content: 'hmm' }, finish_reason: null }],
      });
    });

    it('accepts the final usage chunk with choices: [] and usage: null on earlier chunks', () => {
      expectSchema('CreateChatCompletionStreamResponse', {
        ...chunk(),
        choices: [],
        usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
      });
      expectSchema('CreateChatCompletionStreamResponse', { ...chunk(), usage: null });
    });

    it('requires choices[].finish_reason (null allowed) and index, and a known object', () => {
      const noFinish = chunk();
      delete (noFinish.choices[0] as { finish_reason?: unknown }).finish_reason;
      expect(validateSchema('CreateChatCompletionStreamResponse', noFinish).errors).toEqual([
        expect.stringContaining("/choices/0 must have required property 'finish_reason'"),
      ]);
      expect(validateSchema('CreateChatCompletionStreamResponse', { ...chunk(), object: 'chat.completion' }).valid).toBe(false);
      expect(
        validateSchema('CreateChatCompletionStreamResponse', {
          ...chunk(),
          choices: [{ index: 0, delta: {}, finish_reason: 'done' }],
        }).valid,
      ).toBe(false);
    });

    it('requires index on streamed tool call deltas', () => {
      const toolDelta = (call: object) => ({
        ...chunk(),
        choices: [{ index: 0, delta: { tool_calls: [call] }, finish_reason: null }],
      });
      expectSchema('CreateChatCompletionStreamResponse', toolDelta({ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }));
      expect(validateSchema('CreateChatCompletionStreamResponse', toolDelta({ id: 'call_1', type: 'function' })).valid).toBe(false);
    });
  });

  describe('ListModelsResponse / Model', () => {
    const model = { id: 'gpt-4o-mini', object: 'model', created: 1_700_000_000, owned_by: 'gpt4free-pool' };

    it('accepts a model list', () => {
      expectSchema('ListModelsResponse', { object: 'list', data: [model, { ...model, id: 'llama-3.3-70b' }] });
      expectSchema('Model', model);
    });

    it('rejects a model without owned_by or with a non-integer created', () => {
      const { owned_by: _ownedBy, ...noOwner } = model;
      expect(validateSchema('Model', noOwner).valid).toBe(false);
      expect(validateSchema('ListModelsResponse', { object: 'list', data: [{ ...model, created: 1.5 }] }).valid).toBe(false);
      expect(validateSchema('ListModelsResponse', { object: 'models', data: [] }).valid).toBe(false);
    });
  });

  describe('ErrorResponse', () => {
    it('accepts the OpenAI error envelope', () => {
      expectSchema('ErrorResponse', {
        error: { message: 'Invalid model', type: 'invalid_request_error', param: null, code: null },
      });
      expectSchema('ErrorResponse', {
        error: { message: 'Invalid model', type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
      });
    });

    it('rejects {"error":"x"}', () => {
      const result = validateSchema('ErrorResponse', { error: 'x' });
      expect(result.valid).toBe(false);
      expect(result.errors.join('\n')).toContain('/error must be object');
    });

    it('requires param and code to be present (null allowed) and code to be a string', () => {
      expect(validateSchema('ErrorResponse', { error: { message: 'm', type: 't' } }).valid).toBe(false);
      expect(validateSchema('ErrorResponse', { error: { message: 'm', type: 't', param: null, code: 429 } }).valid).toBe(false);
    });
  });

  describe('ImagesResponse', () => {
    it('accepts url and b64_json images and requires created', () => {
      expectSchema('ImagesResponse', { created: 1_700_000_000, data: [{ url: 'https://example.com/a.png' }, { b64_json: 'aGk=' }] });
      expect(validateSchema('ImagesResponse', { data: [] }).valid).toBe(false);
    });
  });

  it('throws on an unknown schema name', () => {
    expect(() => validateSchema('NoSuchSchema', {})).toThrow(/unknown component schema 'NoSuchSchema'/);
  });
});
