import { ApiError } from '../common/api-error.ts';
import { ResponseIds, functionCallItem, messageItem, responseIdOfItem, type OutputItem } from './responses-output.ts';
import { chatResponseFormat, inputMessages, outputMessages, referencedIds, toChatRequest } from './responses-translate.ts';

/** The ApiError `fn` throws (fails the test when it throws none). */
function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('Responses input as chat messages', () => {
  it('turns message items, images, calls and their outputs into a chat turn, one assistant message per run of calls', () => {
    const messages = inputMessages([
      {
        role: 'developer',
        content: [
          { type: 'input_text', text: 'Be ' },
          { type: 'input_text', text: 'brief.' },
        ],
      },
      {
        type: 'message',
        role: 'user',
        content: [
          { type: 'input_text', text: 'Look' },
          { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'output_text', text: 'Let me check. ' },
          { type: 'refusal', refusal: 'No.' },
        ],
      },
      { type: 'function_call', call_id: 'c1', name: 'a', arguments: '{}' },
      { type: 'function_call', call_id: 'c2', name: 'b', arguments: '{"x":1}' },
      { type: 'reasoning', id: 'rs_1', summary: [] },
      { type: 'function_call_output', call_id: 'c1', output: [{ type: 'input_text', text: 'one' }] },
      { type: 'function_call_output', call_id: 'c2', output: 'two' },
    ]);
    expect(messages).toEqual([
      // Not every upstream knows `developer`, and some take system content only as a string.
      { role: 'system', content: 'Be brief.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Let me check. No.',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'a', arguments: '{}' } },
          { id: 'c2', type: 'function', function: { name: 'b', arguments: '{"x":1}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'one' },
      { role: 'tool', tool_call_id: 'c2', content: 'two' },
    ]);
  });

  it('refuses what chat cannot carry, naming the exact param', () => {
    expect(refusal(() => inputMessages([{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }])).param).toBe('input[0].content[0].image_url');
    expect(refusal(() => inputMessages([{ role: 'tool', content: 'x' }])).param).toBe('input[0].role');
    expect(refusal(() => inputMessages([{ type: 'function_call_output', call_id: 'c', output: 5 }])).param).toBe('input[0].output');
    expect(
      refusal(() =>
        inputMessages([
          { role: 'user', content: 'ok' },
          { type: 'item_reference', id: 'msg_x' },
        ]),
      ).status,
    ).toBe(404);
  });

  it('gives response ids that grow with time (stored at the end of the key index) and stay unguessable', () => {
    const t = Date.UTC(2026, 11, 7, 12, 0, 0);
    const ids = [new ResponseIds(t), new ResponseIds(t), new ResponseIds(t + 1000), new ResponseIds(t + 3_600_000)].map((i) => i.id);
    expect(ids.every((id) => /^resp_[0-9a-f]{24}$/.test(id))).toBe(true);
    // Same second: same time prefix, different random part.
    expect(ids[0]!.slice(0, 13)).toBe(ids[1]!.slice(0, 13));
    expect(ids[0]).not.toBe(ids[1]);
    // Later seconds sort after, as text (the index's order).
    expect([ids[3], ids[2], ids[0]].sort()).toEqual([ids[0], ids[2], ids[3]]);
    expect(parseInt(ids[2]!.slice(5, 13), 16)).toBe((t + 1000) / 1000);
  });

  it('brings back referenced output items, and lists the references to look up', () => {
    const ids = new ResponseIds();
    const message = messageItem(ids.item('message'), 'Hi', 'completed');
    const call = functionCallItem(ids.item('function_call'), { id: '', type: 'function', function: { name: 'f', arguments: '{}' } }, 'call_9', 'completed');
    expect(responseIdOfItem(message.id)).toBe(ids.id);
    expect(responseIdOfItem('msg_abc')).toBeUndefined();
    const input = [
      { type: 'item_reference', id: message.id },
      { type: 'item_reference', id: call.id },
    ];
    expect(referencedIds(input)).toEqual([message.id, call.id]);
    const references = new Map<string, OutputItem>([
      [message.id, message],
      [call.id, call],
    ]);
    const expected = [{ role: 'assistant', content: 'Hi', tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'f', arguments: '{}' } }] }];
    expect(inputMessages(input, references)).toEqual(expected);
    expect(outputMessages([message, call])).toEqual(expected);
  });
});

describe('the chat request', () => {
  it('puts instructions first, then the earlier turns, and maps the Responses settings to chat ones', () => {
    const body = toChatRequest(
      {
        model: 'm',
        instructions: 'Sys',
        provider: 'DeepInfra',
        temperature: 0.2,
        top_p: 0.9,
        max_output_tokens: 50,
        user: 'u1',
        tools: [{ type: 'function', name: 'f', parameters: { type: 'object' }, strict: true }],
        parallel_tool_calls: false,
        tool_choice: { type: 'function', name: 'f' },
        text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true } },
        stream: true,
        metadata: { a: 'b' },
        store: false,
      },
      [{ role: 'user', content: 'earlier' }],
      [{ role: 'user', content: 'now' }],
    );
    expect(body).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'Sys' },
        { role: 'user', content: 'earlier' },
        { role: 'user', content: 'now' },
      ],
      stream: true,
      provider: 'DeepInfra',
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 50,
      user: 'u1',
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' }, strict: true } }],
      parallel_tool_calls: false,
      tool_choice: { type: 'function', function: { name: 'f' } },
      response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } },
    });
  });

  it('maps text formats: plain text needs none, json_object and json_schema as chat has them', () => {
    expect(chatResponseFormat(undefined)).toBeUndefined();
    expect(chatResponseFormat({ format: { type: 'text' } })).toBeUndefined();
    expect(chatResponseFormat({ format: { type: 'json_object' } })).toEqual({ type: 'json_object' });
    expect(refusal(() => chatResponseFormat({ format: { type: 'json_schema', name: 'x' } })).param).toBe('text.format.schema');
  });

  it('needs something besides instructions to answer', () => {
    expect(refusal(() => toChatRequest({ model: 'm', instructions: 'Sys' }, [], [])).param).toBe('input');
  });
});
