// The cheapest upstream a server can be: node:http answering every request with the same ~600-byte
// chat completion, built once. The in-repo emulator spends ~100 µs of CPU per request planning and
// rendering its answer, which hides part of a hop's own cost; against this one a hop's cost shows.
// Non-stream only: it never reads the request, so a stream request gets the same JSON.
//   node bench/minimal-upstream.ts [--port N]    prints "minimal upstream listening on http://…"
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { EXPECTED_TEXT, UPSTREAM_MODEL } from './workload.ts';

/** The one answer, in the shape OpenAI-compatible hosts send (usage included, so no hop counts tokens itself). */
export const MINIMAL_ANSWER = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-minimal-upstream-0000000000000000',
    object: 'chat.completion',
    created: 1_800_000_000,
    model: UPSTREAM_MODEL,
    system_fingerprint: 'fp_minimal',
    choices: [{ index: 0, message: { role: 'assistant', content: EXPECTED_TEXT, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 28, completion_tokens: 39, total_tokens: 67, prompt_tokens_details: { cached_tokens: 0 } },
  }),
);

const HEADERS = { 'content-type': 'application/json', 'content-length': String(MINIMAL_ANSWER.length) };

/** Listens on 127.0.0.1 (port 0: the OS picks) and resolves with the server and its base URL. */
export async function startMinimalUpstream(port = 0): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    // The body is drained, not read: answering only after it ends keeps keep-alive connections in step.
    req.resume();
    req.once('end', () => void res.writeHead(200, HEADERS).end(MINIMAL_ANSWER));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--port');
  const { url } = await startMinimalUpstream(i > 0 ? Number(process.argv[i + 1]) : 0);
  console.log(`minimal upstream listening on ${url}`);
}
