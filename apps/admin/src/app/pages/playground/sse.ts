/**
 * An incremental reader of server-sent events: feed it text as it arrives, get back the `data`
 * of every event completed so far. Handles LF, CRLF and CR line ends, comments, `data:` with or
 * without the space, and multi-line data (joined with "\n").
 */
export class SseDecoder {
  private buffer = '';
  private data: string[] = [];

  /** The data of the events that `chunk` completes. */
  push(chunk: string): string[] {
    this.buffer += chunk;
    const out: string[] = [];
    // A lone CR at the very end may be the first half of a CRLF: keep it for the next chunk.
    let end = this.buffer.length;
    if (this.buffer.endsWith('\r')) end--;
    let start = 0;
    for (let i = 0; i < end; i++) {
      const ch = this.buffer[i];
      if (ch !== '\n' && ch !== '\r') continue;
      this.line(this.buffer.slice(start, i), out);
      if (ch === '\r' && this.buffer[i + 1] === '\n') i++;
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** The stream ended: an event without its blank line still counts. */
  end(): string[] {
    const out: string[] = [];
    if (this.buffer) this.line(this.buffer.replace(/\r$/, ''), out);
    this.buffer = '';
    this.line('', out);
    return out;
  }

  private line(line: string, out: string[]): void {
    if (line === '') {
      if (this.data.length) out.push(this.data.join('\n'));
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') return;
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.data.push(value);
  }
}
