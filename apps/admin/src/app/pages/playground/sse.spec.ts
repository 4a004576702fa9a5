import { SseDecoder } from './sse';

describe('SseDecoder', () => {
  it('yields each event once its blank line arrives, across arbitrary chunk boundaries', () => {
    const d = new SseDecoder();
    expect(d.push('data: {"a"')).toEqual([]);
    expect(d.push(':1}\n')).toEqual([]);
    expect(d.push('\ndata: two\n\nda')).toEqual(['{"a":1}', 'two']);
    expect(d.push('ta: [DONE]\n\n')).toEqual(['[DONE]']);
    expect(d.end()).toEqual([]);
  });

  it('handles CRLF (even split between chunks) and CR line ends', () => {
    const d = new SseDecoder();
    expect(d.push('data: one\r')).toEqual([]);
    expect(d.push('\n\r\ndata: two\r\r\n')).toEqual(['one', 'two']);
    // A CR at the end of a chunk may still become a CRLF: it ends the line only once the next byte is known.
    expect(d.push('data: three\r\r')).toEqual([]);
    expect(d.push('data: four\n\n')).toEqual(['three', 'four']);
  });

  it('skips comments and other fields, takes data without the space, joins multi-line data', () => {
    const d = new SseDecoder();
    expect(d.push(': keep-alive\n\nevent: message\nid: 7\ndata:first\ndata: second\nretry: 10\n\n')).toEqual(['first\nsecond']);
  });

  it('counts a last event that lacks its blank line when the stream ends', () => {
    const d = new SseDecoder();
    expect(d.push('data: tail')).toEqual([]);
    expect(d.end()).toEqual(['tail']);
  });
});
