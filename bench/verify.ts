// Checks that an answer arrived whole. The direct and the gateway runs pay for the same checks.

interface CompletionShape {
  choices?: { message?: { content?: unknown } }[];
}

interface ChunkShape {
  choices?: { delta?: { content?: unknown } }[];
}

/** undefined when the body is a chat completion whose text is `expected`; else what is wrong. */
export function checkCompletion(body: string, expected: string): string | undefined {
  let parsed: CompletionShape;
  try {
    parsed = JSON.parse(body) as CompletionShape;
  } catch {
    return `body is not JSON: ${body.slice(0, 120)}`;
  }
  const content = parsed.choices?.[0]?.message?.content;
  return content === expected ? undefined : `wrong content: ${JSON.stringify(content)?.slice(0, 120)}`;
}

/** The `data:` payloads of an SSE body, in order (multi-line data joined with "\n"). */
export function sseData(body: string): string[] {
  const out: string[] = [];
  for (const block of body.split(/\r?\n\r?\n/)) {
    let data: string | undefined;
    for (const line of block.split(/\r?\n/)) {
      if (!line.startsWith('data:')) continue;
      const value = line.slice(line.charCodeAt(5) === 32 ? 6 : 5);
      data = data === undefined ? value : `${data}\n${value}`;
    }
    if (data !== undefined) out.push(data);
  }
  return out;
}

/** undefined when the SSE body's deltas spell `expected` and the stream ends with [DONE]. */
export function checkStream(body: string, expected: string): string | undefined {
  const events = sseData(body);
  if (events.at(-1) !== '[DONE]') return `no [DONE] at the end (${events.length} events)`;
  let text = '';
  for (const data of events.slice(0, -1)) {
    let chunk: ChunkShape;
    try {
      chunk = JSON.parse(data) as ChunkShape;
    } catch {
      return `event is not JSON: ${data.slice(0, 120)}`;
    }
    const piece = chunk.choices?.[0]?.delta?.content;
    if (typeof piece === 'string') text += piece;
  }
  return text === expected ? undefined : `wrong text: ${JSON.stringify(text).slice(0, 120)}`;
}
