import { ValidatorCompiler } from '../common/compiled-validator.ts';
import { CountMessageTokensDto, CreateMessageDto } from './messages-request.dto.ts';

// The validation pipe's options (validation.pipe.ts): the compiled checks are made for them.
const compiler = new ValidatorCompiler({ forbidUnknownValues: false, validationError: { target: false, value: false } });

const request = {
  model: 'm',
  max_tokens: 64,
  system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
  messages: [
    { role: 'user', content: 'What is the weather in Paris?' },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '21°C' }] },
  ],
  tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
  tool_choice: { type: 'auto' },
  stop_sequences: ['END'],
  stream: true,
};

describe('the Messages DTOs on the fast validation path', () => {
  // A DTO the compiler does not understand sends every request through class-transformer and
  // class-validator, a good part of a request's CPU.
  it('compile, and vouch for an agent’s request', () => {
    expect(compiler.compile(CreateMessageDto)?.(request)).toBe(true);
    expect(compiler.compile(CountMessageTokensDto)?.({ model: 'm', messages: request.messages, tools: request.tools })).toBe(true);
  });

  it.each([
    ['no max_tokens', { ...request, max_tokens: undefined }],
    ['a system role', { ...request, messages: [{ role: 'system', content: 'hi' }] }],
    ['a block without a type', { ...request, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }],
    ['tool_choice tool without a name', { ...request, tool_choice: { type: 'tool' } }],
    ['five stop sequences', { ...request, stop_sequences: ['a', 'b', 'c', 'd', 'e'] }],
  ])('do not vouch for %s', (_name, body) => {
    expect(compiler.compile(CreateMessageDto)?.(JSON.parse(JSON.stringify(body)))).toBe(false);
  });
});
