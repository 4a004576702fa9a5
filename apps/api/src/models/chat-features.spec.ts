import { requiredFeatures, routeHonours } from './chat-features.ts';

const user = [{ role: 'user' as const, content: 'hi' }];
const tools = [{ type: 'function', function: { name: 'f' } }];

describe('requiredFeatures', () => {
  it('needs nothing for plain text, empty tools, tool_choice auto, a text format or an empty stop', () => {
    expect(requiredFeatures({ messages: user, params: {} })).toEqual([]);
    expect(
      requiredFeatures({ messages: user, params: { tools: [], tool_choice: 'auto', response_format: { type: 'text' }, stop: [], reasoning_effort: 'none' } }),
    ).toEqual([]);
  });

  it('names each feature the request relies on', () => {
    expect(
      requiredFeatures({
        messages: user,
        params: {
          tools,
          tool_choice: { type: 'function', function: { name: 'f' } },
          response_format: { type: 'json_schema' },
          stop: 'END',
          reasoning_effort: 'low',
        },
      }),
    ).toEqual(['tools', 'tool_choice', 'json_schema', 'stop', 'reasoning']);
    expect(requiredFeatures({ messages: user, params: { tools, tool_choice: 'required', response_format: { type: 'json_object' } } })).toEqual([
      'tools',
      'tool_choice',
      'json_object',
    ]);
  });

  it('a history with tool calls or results needs tools even without `tools`', () => {
    expect(requiredFeatures({ messages: [...user, { role: 'tool', tool_call_id: 'c', content: '1' }], params: {} })).toEqual(['tools']);
    const call = { id: 'c', type: 'function' as const, function: { name: 'f', arguments: '{}' } };
    expect(requiredFeatures({ messages: [{ role: 'assistant', content: null, tool_calls: [call] }], params: {} })).toEqual(['tools']);
  });
});

describe('routeHonours', () => {
  it('an adapter without `honours` passes everything through; one with it decides per model', () => {
    expect(routeHonours({}, 'm', 'stop')).toBe(true);
    expect(routeHonours(undefined, 'm', 'tools')).toBe(true);
    const adapter = { honours: (f: string, m: string) => f === 'tools' && m === 'yes' };
    expect(routeHonours(adapter, 'yes', 'tools')).toBe(true);
    expect(routeHonours(adapter, 'no', 'tools')).toBe(false);
    expect(routeHonours(adapter, 'yes', 'stop')).toBe(false);
  });
});
