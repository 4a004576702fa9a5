// The three chat front doors of the gateway, one streamed request each, for the benchmark's
// front-door phase: chat completions, the Responses API and Anthropic Messages all run the same
// failover core, so the two newer doors should cost about what chat does (issue budget: ≥ 0.9×).
import type { Target } from './client.ts';
import type { Verifier } from './load.ts';
import { checkStream, sseData } from './verify.ts';
import { CLIENT_KEY, EXPECTED_TEXT, GATEWAY_MODEL, SYSTEM_TEXT, USER_TEXT, bodyFor } from './workload.ts';

export const FRONT_DOORS = ['chat', 'responses', 'messages'] as const;
export type FrontDoor = (typeof FRONT_DOORS)[number];

export interface FrontDoorRun {
  target: Target;
  body: string;
  verify: Verifier;
}

const auth = { authorization: `Bearer ${CLIENT_KEY}` };

/** The JSON events of a typed-event stream (Responses, Messages); undefined when one is not JSON. */
function typedEvents(body: string): Array<Record<string, unknown>> | undefined {
  const out: Array<Record<string, unknown>> = [];
  for (const data of sseData(body)) {
    try {
      out.push(JSON.parse(data) as Record<string, unknown>);
    } catch {
      return undefined;
    }
  }
  return out;
}

/** Responses API: the output_text deltas spell the answer and the last event is response.completed. */
function checkResponsesStream(body: string): string | undefined {
  const events = typedEvents(body);
  if (!events) return 'an event is not JSON';
  if (events.at(-1)?.type !== 'response.completed') return `last event is ${String(events.at(-1)?.type)}`;
  const text = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [String(e.delta)] : [])).join('');
  return text === EXPECTED_TEXT ? undefined : `wrong text: ${JSON.stringify(text).slice(0, 120)}`;
}

/** Anthropic Messages: the text_delta pieces spell the answer and the last event is message_stop. */
function checkMessagesStream(body: string): string | undefined {
  const events = typedEvents(body);
  if (!events) return 'an event is not JSON';
  if (events.at(-1)?.type !== 'message_stop') return `last event is ${String(events.at(-1)?.type)}`;
  const text = events
    .flatMap((e) => {
      const delta = e.delta as { type?: string; text?: string } | undefined;
      return e.type === 'content_block_delta' && delta?.type === 'text_delta' ? [delta.text ?? ''] : [];
    })
    .join('');
  return text === EXPECTED_TEXT ? undefined : `wrong text: ${JSON.stringify(text).slice(0, 120)}`;
}

/** One streamed request per front door, each asking the gateway the same question. */
export function frontDoorRuns(gatewayUrl: string): Record<FrontDoor, FrontDoorRun> {
  const chat: Target = { label: 'gateway', url: `${gatewayUrl}/v1/chat/completions`, headers: auth };
  return {
    chat: { target: chat, body: bodyFor(chat, true), verify: (ex) => checkStream(ex.body, EXPECTED_TEXT) },
    responses: {
      target: { label: 'responses', url: `${gatewayUrl}/v1/responses`, headers: auth },
      // Stored, as by default: the store's write is part of what this door costs.
      body: JSON.stringify({ model: GATEWAY_MODEL, instructions: SYSTEM_TEXT, input: USER_TEXT, stream: true, temperature: 0.2 }),
      verify: (ex) => checkResponsesStream(ex.body),
    },
    messages: {
      target: { label: 'messages', url: `${gatewayUrl}/v1/messages`, headers: auth },
      body: JSON.stringify({
        model: GATEWAY_MODEL,
        system: SYSTEM_TEXT,
        max_tokens: 1024,
        messages: [{ role: 'user', content: USER_TEXT }],
        stream: true,
        temperature: 0.2,
      }),
      verify: (ex) => checkMessagesStream(ex.body),
    },
  };
}
