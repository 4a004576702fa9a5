import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import express from 'express';
import { Observable } from 'rxjs';
import type { CatalogModel, ChatCompletionRequest } from '#contracts';
import type { ResponseCacheService } from '../cache/response-cache.service.ts';
import type { ClientKeysService } from '../client-keys/client-keys.service.ts';
import type { AppConfig } from '../config/app-config.ts';
import { PoolEvents, type RequestRecord } from '../events/pool-events.service.ts';
import type { AppLifecycle } from '../lifecycle/app-lifecycle.service.ts';
import type { ChatEvent } from '../providers/provider-adapter.ts';
import { AffinityService } from '../routing/affinity.ts';
import type { ChatCompletionRequestDto } from './chat-request.dto.ts';
import { ChatResponder } from './chat-responder.service.ts';
import type { ResponsesStore } from './responses-store.ts';
import { RunResponder } from './run-responder.service.ts';
import type { ChatItem, ChatService } from './chat.service.ts';

/**
 * A bug in an adapter or a mapping (here: a tool call delta that is null) must end its own
 * request, never reach the process: a throw inside an RxJS subscriber's callback is otherwise
 * rethrown asynchronously, where nothing catches it and Node exits with every stream in flight.
 */
describe('ChatResponder with an upstream event it cannot take', () => {
  const brokenEvents: ChatItem[] = [
    { type: 'start', provider: 'Scripted', upstreamModel: 'scripted-1', keyId: 'k', ttftMs: 1 },
    { type: 'delta', content: 'Hello' },
    { type: 'delta', toolCalls: [null as never] },
    { type: 'delta', content: ' never sent' },
  ];
  const records: RequestRecord[] = [];
  let url: string;
  let close: () => Promise<void>;
  let uncaught: unknown[];
  const onUncaught = (err: unknown) => uncaught.push(err);

  beforeAll(async () => {
    // The bug is logged (bounded, see last-resort.spec.ts); not in this test's output.
    Logger.overrideLogger(false);
    const chat = {
      start: (body: ChatCompletionRequest) => ({
        model: { id: body.model } as CatalogModel,
        request: { model: body.model, messages: body.messages, stream: body.stream === true, params: {}, hasImages: false },
        items: new Observable<ChatItem>((sub) => {
          for (const item of brokenEvents) sub.next(item as ChatEvent);
          sub.complete();
        }),
        attempts: [],
      }),
    } as unknown as ChatService;
    const events = new PoolEvents();
    events.requests.subscribe((r) => records.push(r));
    const lifecycle = { cutSignal: new AbortController().signal } as AppLifecycle;
    const config = { limits: { clientStallMs: 5_000 }, responseModel: 'served', sessionAffinity: { enabled: false } } as AppConfig;
    // Neither the cache nor affinity is what this is about: both off.
    const cache = { enabled: false, forcedModels: [] } as unknown as ResponseCacheService;
    const affinity = new AffinityService(config, null);
    const scopes = { ownerOf: () => 'open' } as unknown as ResponsesStore;
    // No client keys: every model allowed.
    const clientKeys = { allowedModels: () => undefined } as unknown as ClientKeysService;
    const responder = new ChatResponder(new RunResponder(chat, events, lifecycle, config, cache, affinity, scopes, clientKeys), config);
    const app = express();
    app.use(express.json());
    app.post('/chat', (req, res) => {
      responder.respond(req.body as ChatCompletionRequestDto, req, res).catch((err: Error) => res.status(500).json({ error: err.message }));
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/chat`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });

  afterAll(() => close());

  beforeEach(() => {
    records.length = 0;
    uncaught = [];
    process.on('uncaughtException', onUncaught);
  });

  afterEach(() => {
    process.off('uncaughtException', onUncaught);
  });

  const post = (stream: boolean) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', stream, messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('ends a stream with an OpenAI error event and [DONE], records it, and throws nothing at the process', async () => {
    const res = await post(true);
    expect(res.status).toBe(200);
    const events = (await res.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const error = JSON.parse(events.at(-2)!.slice('data: '.length)) as { error: { type: string; code: string } };
    expect(error.error).toMatchObject({ type: 'server_error', code: 'internal_error' });
    expect(events.join('')).toContain('Hello');
    expect(events.join('')).not.toContain('never sent');
    await new Promise((r) => setTimeout(r, 50));
    expect(uncaught).toEqual([]);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 200, error: 'The server had an error while processing the stream.' });
  });

  it('fails a non-stream answer as that request, and throws nothing at the process', async () => {
    const res = await post(false);
    expect(res.status).toBe(500);
    await new Promise((r) => setTimeout(r, 50));
    expect(uncaught).toEqual([]);
    expect(records).toHaveLength(1);
    expect(records[0]!.status).toBe(500);
  });
});
