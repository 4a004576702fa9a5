import { Readable } from 'node:stream';
import { SseParser, sseEvents, type SseEvent } from './sse-parser.ts';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Parses a whole stream delivered as the given pieces, `end()` included. */
function parse(...pieces: Array<Uint8Array | string>): SseEvent[] {
  const parser = new SseParser();
  const events = pieces.flatMap((piece) => parser.push(piece));
  return [...events, ...parser.end()];
}

function splitAt(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const offset of [...offsets, bytes.length]) {
    pieces.push(bytes.subarray(start, offset));
    start = offset;
  }
  return pieces;
}

describe('SseParser', () => {
  describe('line endings', () => {
    it.each([
      ['LF', '\n'],
      ['CRLF', '\r\n'],
      ['lone CR', '\r'],
    ])('accepts %s', (_name, eol) => {
      const stream = `event: a${eol}data: 1${eol}data: 2${eol}${eol}data: 3${eol}${eol}`;
      expect(parse(stream)).toEqual([
        { event: 'a', data: '1\n2' },
        { event: 'message', data: '3' },
      ]);
    });

    it('accepts a mix of line endings in one stream', () => {
      expect(parse('data: a\rdata: b\r\ndata: c\n\r\n')).toEqual([{ event: 'message', data: 'a\nb\nc' }]);
    });

    it('treats a CRLF split across two chunks as one line ending', () => {
      // Were the split CRLF two endings, the LF would be a blank line dispatching "a" early.
      expect(parse('data: a\r', '\ndata: b\r\n\r\n')).toEqual([{ event: 'message', data: 'a\nb' }]);
      expect(parse(utf8('data: a\r'), utf8('\ndata: b\r'), utf8('\n\r'), utf8('\n'))).toEqual([{ event: 'message', data: 'a\nb' }]);
    });

    it('treats CR CR as two line endings even across chunks', () => {
      expect(parse('data: a\r', '\r')).toEqual([{ event: 'message', data: 'a' }]);
    });

    it('dispatches on a CR at the end of a chunk without waiting for the next chunk', () => {
      const parser = new SseParser();
      expect(parser.push('data: a\r\n\r')).toEqual([{ event: 'message', data: 'a' }]);
      expect(parser.push('\ndata: b\n\n')).toEqual([{ event: 'message', data: 'b' }]);
    });

    it('keeps a pending CR across an empty chunk', () => {
      expect(parse('data: a\r', '', new Uint8Array(0), '\n\n')).toEqual([{ event: 'message', data: 'a' }]);
    });
  });

  describe('UTF-8 decoding', () => {
    const text = 'data: héllo 世界 🙂 end\n\n';
    const bytes = utf8(text);

    it('decodes multi-byte characters split at every byte position', () => {
      for (let cut = 1; cut < bytes.length; cut++) {
        expect(parse(...splitAt(bytes, [cut]))).toEqual([{ event: 'message', data: 'héllo 世界 🙂 end' }]);
      }
    });

    it('decodes a stream delivered one byte at a time', () => {
      const oneByOne = Array.from(bytes, (byte) => Uint8Array.of(byte));
      expect(parse(...oneByOne)).toEqual([{ event: 'message', data: 'héllo 世界 🙂 end' }]);
    });

    it('accepts Buffers', () => {
      expect(parse(Buffer.from('data: é\n'), Buffer.from('\n'))).toEqual([{ event: 'message', data: 'é' }]);
    });

    it('strips one leading BOM, even when the BOM itself is split', () => {
      const withBom = utf8('\uFEFFdata: a\n\n');
      expect(parse(withBom)).toEqual([{ event: 'message', data: 'a' }]);
      expect(parse(...splitAt(withBom, [1, 2]))).toEqual([{ event: 'message', data: 'a' }]);
      expect(parse('\uFEFFdata: a\n\n')).toEqual([{ event: 'message', data: 'a' }]);
    });

    it('strips only the first BOM', () => {
      // A second BOM makes the first line's field name "\uFEFFdata", which is unknown.
      expect(parse(utf8('\uFEFF\uFEFFdata: a\n\ndata: b\n\n'))).toEqual([{ event: 'message', data: 'b' }]);
      expect(parse('data: a\n\n', '\uFEFFdata: b\n\n')).toEqual([{ event: 'message', data: 'a' }]);
    });

    it('does not strip a BOM that is not at the start of the stream', () => {
      expect(parse('data: \uFEFFa\n\n')).toEqual([{ event: 'message', data: '\uFEFFa' }]);
    });

    it('replaces invalid bytes with U+FFFD like a browser', () => {
      const invalid = Uint8Array.of(...utf8('data: '), 0xff, 0xe2, 0x82, 0x41, ...utf8('\n\n'));
      expect(parse(invalid)).toEqual([{ event: 'message', data: '\uFFFD\uFFFDA' }]);
    });

    it('decodes random byte streams, valid or not, exactly as a one-shot decode at any split', () => {
      // The parser finds character boundaries itself (and skips the decoder for ASCII), so this
      // checks that bookkeeping against TextDecoder's one-shot decoding, on hostile input.
      let seed = 42;
      const random = (n: number): number => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      const alphabet = [0x41, 0x20, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x99, 0x82, 0x80, 0xff, 0xed, 0xa0, 0xe0, 0xf4, 0x90];
      for (let round = 0; round < 300; round++) {
        const body = Array.from({ length: 1 + random(24) }, () => alphabet[random(alphabet.length)]!);
        const bytes = Uint8Array.of(...utf8('data:'), ...body, ...utf8('\n\n'));
        const expected = new TextDecoder().decode(Uint8Array.from(body));
        const cuts = [...new Set(Array.from({ length: random(6) }, () => 1 + random(bytes.length - 1)))];
        cuts.sort((a, b) => a - b);
        expect(parse(...splitAt(bytes, cuts))).toEqual([{ event: 'message', data: expected }]);
        const oneByOne = Array.from(bytes, (byte) => Uint8Array.of(byte));
        expect(parse(...oneByOne)).toEqual([{ event: 'message', data: expected }]);
      }
    });

    it('keeps streams apart when many parsers decode at once, each a byte at a time (they share one decoder)', () => {
      const texts = ['你好，世界', 'héllo wörld €', '🙂🙃 ok', 'plain ascii'];
      const streams = texts.map((text, i) => utf8(`data: ${text}\n\n`).map((b, j) => (i === 1 && j === 8 ? 0xff : b)));
      const parsers = texts.map(() => new SseParser());
      const events: SseEvent[][] = texts.map(() => []);
      const longest = Math.max(...streams.map((bytes) => bytes.length));
      for (let at = 0; at < longest; at++) {
        streams.forEach((bytes, i) => {
          if (at < bytes.length) events[i]!.push(...parsers[i]!.push(bytes.subarray(at, at + 1)));
        });
      }
      const expected = streams.map((bytes) => [{ event: 'message', data: new TextDecoder().decode(bytes.subarray(6, bytes.length - 2)) }]);
      expect(events).toEqual(expected);
      // The corrupted byte shows in its own stream only.
      expect(events.map((e) => e[0]!.data.includes('\uFFFD'))).toEqual([false, true, false, false]);
    });

    it('flushes an interrupted byte sequence as U+FFFD when text follows', () => {
      expect(parse(Uint8Array.of(...utf8('data: '), 0xe4, 0xb8), 'x\n\n')).toEqual([{ event: 'message', data: '\uFFFDx' }]);
    });
  });

  describe('fields', () => {
    it('ignores comment lines', () => {
      expect(parse(': keep-alive\ndata: a\n:another comment\n\n:\n\n')).toEqual([{ event: 'message', data: 'a' }]);
    });

    it('strips exactly one leading space from the value', () => {
      expect(parse('data:a\n\ndata: a\n\ndata:  a\n\ndata:\ta\n\n')).toEqual([
        { event: 'message', data: 'a' },
        { event: 'message', data: 'a' },
        { event: 'message', data: ' a' },
        { event: 'message', data: '\ta' },
      ]);
    });

    it('splits on the first colon only', () => {
      expect(parse('data: {"a":"b: c"}\n\n')).toEqual([{ event: 'message', data: '{"a":"b: c"}' }]);
    });

    it('treats a line without a colon as a field with an empty value', () => {
      expect(parse('data\n\n')).toEqual([{ event: 'message', data: '' }]);
      expect(parse('data\ndata\n\n')).toEqual([{ event: 'message', data: '\n' }]);
      expect(parse('event\ndata: x\n\n')).toEqual([{ event: 'message', data: 'x' }]);
    });

    it('joins multiple data lines with LF and keeps empty ones', () => {
      expect(parse('data: a\ndata:\ndata: b\n\n')).toEqual([{ event: 'message', data: 'a\n\nb' }]);
    });

    it('dispatches an event whose only data line is empty', () => {
      expect(parse('data:\n\n')).toEqual([{ event: 'message', data: '' }]);
    });

    it('does not dispatch a block without data, and forgets its event type', () => {
      expect(parse('event: a\n\ndata: x\n\n')).toEqual([{ event: 'message', data: 'x' }]);
      expect(parse('\n\n\n')).toEqual([]);
    });

    it('sets the event type, falling back to "message" for an empty one', () => {
      expect(parse('event: delta\ndata: 1\n\nevent:\ndata: 2\n\nevent: a\nevent: b\ndata: 3\n\n')).toEqual([
        { event: 'delta', data: '1' },
        { event: 'message', data: '2' },
        { event: 'b', data: '3' },
      ]);
    });

    it('keeps the last event ID across events until an id field changes it', () => {
      expect(parse('id: 1\ndata: a\n\ndata: b\n\nid:\ndata: c\n\nid: 3\n\ndata: d\n\n')).toEqual([
        { event: 'message', data: 'a', id: '1' },
        { event: 'message', data: 'b', id: '1' },
        { event: 'message', data: 'c' },
        { event: 'message', data: 'd', id: '3' },
      ]);
    });

    it('ignores ids containing NUL', () => {
      const parser = new SseParser();
      expect(parser.push('id: 7\ndata: a\n\nid: 8\0\ndata: b\n\n')).toEqual([
        { event: 'message', data: 'a', id: '7' },
        { event: 'message', data: 'b', id: '7' },
      ]);
      expect(parser.lastEventId).toBe('7');
    });

    it('updates lastEventId at dispatch, even for a block without data', () => {
      const parser = new SseParser();
      parser.push('id: 5\n');
      expect(parser.lastEventId).toBe('');
      parser.push('\n');
      expect(parser.lastEventId).toBe('5');
    });

    it('accepts retry only when it is all ASCII digits', () => {
      expect(
        parse('retry: 3000\ndata: a\n\nretry: 1.5\ndata: b\n\nretry: -1\ndata: c\n\nretry:\ndata: d\n\nretry: 10x\ndata: e\n\nretry:  5\ndata: f\n\n'),
      ).toEqual([
        { event: 'message', data: 'a', retry: 3000 },
        { event: 'message', data: 'b' },
        { event: 'message', data: 'c' },
        { event: 'message', data: 'd' },
        { event: 'message', data: 'e' },
        { event: 'message', data: 'f' },
      ]);
    });

    it('applies retry immediately, even from a block that is never dispatched', () => {
      const parser = new SseParser();
      parser.push('retry: 250\n');
      expect(parser.retry).toBe(250);
      parser.push('\ndata: x\n\n');
      expect(parser.retry).toBe(250);
    });

    it('ignores unknown fields and matches field names case-sensitively', () => {
      expect(parse('foo: bar\nData: nope\nEVENT: nope\ndata: yes\n\n')).toEqual([{ event: 'message', data: 'yes' }]);
    });
  });

  describe('end of stream', () => {
    it('discards an event not terminated by a blank line and reports its size', () => {
      const parser = new SseParser();
      expect(parser.push('data: a\n\ndata: b\n')).toEqual([{ event: 'message', data: 'a' }]);
      expect(parser.pendingBytes).toBe('data: b\n'.length);
      expect(parser.end()).toEqual([]);
      expect(parser.pendingBytes).toBe(8);
    });

    it('discards an unterminated last line', () => {
      const parser = new SseParser();
      expect(parser.push('data: a')).toEqual([]);
      expect(parser.end()).toEqual([]);
      expect(parser.pendingBytes).toBe(7);
    });

    it('counts pending bytes in UTF-8, including a held partial character and a split CRLF', () => {
      const parser = new SseParser();
      parser.push(utf8('data: é\r'));
      expect(parser.pendingBytes).toBe(9);
      parser.push(utf8('\n'));
      expect(parser.pendingBytes).toBe(10);
      parser.push(Uint8Array.of(0x78, 0xe4, 0xb8));
      expect(parser.pendingBytes).toBe(13);

      const withBom = new SseParser();
      withBom.push(utf8('\uFEFFdata: a'));
      expect(withBom.pendingBytes).toBe(10);
    });

    it('reports nothing pending after a complete stream, trailing comments included', () => {
      const parser = new SseParser();
      parser.push('data: a\r\n\r');
      expect(parser.pendingBytes).toBe(0);
      parser.push('\n: ping\n');
      expect(parser.pendingBytes).toBe(0);
      parser.end();
      expect(parser.pendingBytes).toBe(0);
    });

    it('refuses input after end()', () => {
      const parser = new SseParser();
      parser.end();
      expect(() => parser.push('data: a\n\n')).toThrow(/after end/);
      expect(parser.end()).toEqual([]);
    });
  });

  it('parses a multi-event stream split at every byte offset (one and two cuts) identically', () => {
    const stream = utf8(
      '\uFEFF: hi\r\nretry: 1000\r\nevent: delta\r\nid: a1\r\ndata: {"c":"Hé"}\r\n\r\n' +
        'data: 你好\rdata: 🙂\r\rdata\n\nid: a2\nevent: done\ndata: [DONE]\n\nfoo: bar\n\n',
    );
    const expected: SseEvent[] = [
      { event: 'delta', data: '{"c":"Hé"}', id: 'a1', retry: 1000 },
      { event: 'message', data: '你好\n🙂', id: 'a1' },
      { event: 'message', data: '', id: 'a1' },
      { event: 'done', data: '[DONE]', id: 'a2' },
    ];
    expect(parse(stream)).toEqual(expected);
    for (let first = 0; first <= stream.length; first++) {
      expect(parse(...splitAt(stream, [first]))).toEqual(expected);
      for (let second = first; second <= stream.length; second += 7) {
        expect(parse(...splitAt(stream, [first, second]))).toEqual(expected);
      }
    }
    expect(parse(...Array.from(stream, (byte) => Uint8Array.of(byte)))).toEqual(expected);
    // The same stream as text, split at every UTF-16 offset.
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(stream);
    for (let cut = 0; cut <= text.length; cut++) {
      expect(parse(text.slice(0, cut), text.slice(cut))).toEqual(expected);
    }
  });

  // A parser that re-scanned its growing buffer would take minutes on these 1 MB byte-by-byte
  // feeds and hit Jest's timeout; speed budgets themselves belong in bench/, not here.
  it('parses a 1 MB stream fed one byte at a time, with a 200 kB line', () => {
    const line = `data: {"choices":[{"delta":{"content":"token ${'x'.repeat(40)} é"}}]}\n\n`;
    const bigLine = `data: ${'y'.repeat(200_000)}\n\n`;
    const body = bigLine + line.repeat(Math.ceil((1_000_000 - bigLine.length) / line.length));
    const bytes = utf8(body);
    expect(bytes.length).toBeGreaterThanOrEqual(1_000_000);
    const pieces = Array.from(bytes, (byte) => Uint8Array.of(byte));

    const parser = new SseParser();
    let count = 0;
    for (const piece of pieces) count += parser.push(piece).length;

    expect(count).toBe(1 + (body.length - bigLine.length) / line.length);
    expect(parser.pendingBytes).toBe(0);
  });

  it('parses 1 MB of non-ASCII text fed one byte at a time', () => {
    const block = `data: ${'你好，世界 🙂 ¿qué tal? '.repeat(20)}\n\n`;
    const bytes = utf8(block.repeat(Math.ceil(1_000_000 / utf8(block).length)));
    const pieces = Array.from(bytes, (byte) => Uint8Array.of(byte));

    const parser = new SseParser();
    const events: SseEvent[] = [];
    for (const piece of pieces) events.push(...parser.push(piece));

    expect(events).toHaveLength(bytes.length / utf8(block).length);
    expect(events.every((event) => event.data === block.slice(6, -2))).toBe(true);
  });

  it('parses a 1 MB stream fed in one piece', () => {
    const body = 'data: abc\n\n'.repeat(100_000);
    expect(new SseParser().push(body)).toHaveLength(100_000);
  });
});

describe('sseEvents', () => {
  it('iterates events from a Node Readable of Buffers', async () => {
    const stream = Readable.from([Buffer.from('data: a\r'), Buffer.from('\n\r\nevent: x\ndata: '), Buffer.from('b\n\ndata: lost')]);
    const events: SseEvent[] = [];
    for await (const event of sseEvents(stream)) events.push(event);
    expect(events).toEqual([
      { event: 'message', data: 'a' },
      { event: 'x', data: 'b' },
    ]);
  });

  it('iterates events from an async iterable of strings', async () => {
    async function* source(): AsyncGenerator<string> {
      yield 'data: 1\n';
      yield '\ndata: 2\n\n';
    }
    const events: SseEvent[] = [];
    for await (const event of sseEvents(source())) events.push(event);
    expect(events.map((event) => event.data)).toEqual(['1', '2']);
  });

  it('stops reading the source when the consumer stops early', async () => {
    let finished = false;
    async function* source(): AsyncGenerator<string> {
      try {
        yield 'data: 1\n\ndata: 2\n\n';
        yield 'data: 3\n\n';
      } finally {
        finished = true;
      }
    }
    for await (const event of sseEvents(source())) {
      expect(event.data).toBe('1');
      break;
    }
    expect(finished).toBe(true);
  });
});

describe('SseParser limits', () => {
  const limited = () => new SseParser({ maxLineBytes: 100, maxEventBytes: 250 });

  it('accepts lines and events up to the limits exactly', () => {
    const parser = limited();
    // "data: " + 94 = 100 bytes; two such lines plus endings = 202 bytes.
    const line = `data: ${'x'.repeat(94)}`;
    expect(parser.push(`${line}\n${line}\n\n`)).toEqual([{ event: 'message', data: `${'x'.repeat(94)}\n${'x'.repeat(94)}` }]);
  });

  it('fails a line over the limit arriving in one piece', () => {
    expect(() => limited().push(`data: ${'x'.repeat(95)}\n`)).toThrow(expect.objectContaining({ name: 'SseLimitError', limit: 'line' }));
  });

  it('fails an endless line fed a byte at a time once it passes the limit, not later', () => {
    const parser = limited();
    let fed = 0;
    expect(() => {
      for (; fed < 10_000; fed++) parser.push('a');
    }).toThrow(/line is over 100 bytes/);
    expect(fed).toBe(100);
    // The parser is finished: it holds nothing and takes no more input.
    expect(() => parser.push('data: 1\n\n')).toThrow(/after end/);
  });

  it('counts UTF-8 bytes, not characters: "data:" and 32 three-byte characters are 101 bytes', () => {
    expect(() => limited().push(`data:${'€'.repeat(31)}`)).not.toThrow();
    expect(() => limited().push(`data:${'€'.repeat(32)}`)).toThrow(/line is over 100 bytes/);
    const parser = limited();
    expect(() => {
      for (let i = 0; i < 40; i++) parser.push(utf8('€'));
    }).toThrow(expect.objectContaining({ limit: 'line' }));
  });

  it('fails an event whose lines together pass the event limit', () => {
    const parser = limited();
    const line = `data: ${'x'.repeat(90)}\n`;
    expect(parser.push(line + line)).toEqual([]);
    expect(() => parser.push(line)).toThrow(expect.objectContaining({ name: 'SseLimitError', limit: 'event' }));
  });

  it('does not count comments between events, nor completed events', () => {
    const parser = limited();
    const events: SseEvent[] = [];
    for (let i = 0; i < 100; i++) events.push(...parser.push(`: ping\n\ndata: ${'x'.repeat(90)}\n\n`));
    expect(events).toHaveLength(100);
  });
});

describe('SseLimitError', () => {
  it('carries the events completed by the same piece before the bound was broken', () => {
    const parser = new SseParser({ maxLineBytes: 20 });
    let error: unknown;
    try {
      parser.push(`data: 1\n\ndata: 2\n\ndata: ${'x'.repeat(30)}\n\n`);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({
      limit: 'line',
      events: [
        { event: 'message', data: '1' },
        { event: 'message', data: '2' },
      ],
    });
  });
});
