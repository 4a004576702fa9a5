/**
 * Session affinity (SESSION_AFFINITY, on by default) end to end: the turns of one conversation,
 * named by `x-session-id`, `prompt_cache_key` or `user`, or known by their system prompt and first
 * user turn, go to the provider and key that answered the turn before, under weighted-random
 * routing that would otherwise spread them; a route that fails or cools is left at once and the
 * conversation stays where it moved; a request that names its provider neither follows nor moves
 * it. DeepInfra has two keys; `solo` has DeepInfra alone, for the keys' tests.
 */
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';

const MODEL = 'llama-3.3-70b';
const KEYS = ['di-good-key-0001', 'di-good-key-0002'];
const ENV = { ROUTING_STRATEGY: 'random', DEEPINFRA_API_KEY: KEYS.join(','), BREAKER_COOLDOWN_MS: '60000' };
const TURNS = 12;

let emu: Emulator;
let gw: Gateway;
let off: Gateway;
let solo: Gateway;
let conversation = 0;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  const others = { TOGETHER_ENABLED: 'false', HUGGINGFACE_ENABLED: 'false', POLLINATIONS_ENABLED: 'false', CLOUDFLARE_ENABLED: 'false' };
  [gw, off, solo] = await Promise.all([
    startGateway(emu, ENV),
    startGateway(emu, { ...ENV, SESSION_AFFINITY: 'false' }),
    startGateway(emu, { ...ENV, ...others }),
  ]);
});
afterAll(async () => {
  await Promise.all([gw?.close(), off?.close(), solo?.close()]);
  await emu?.close();
});
afterEach(() => emu.reset());

interface Turn {
  status: number;
  provider: string | null;
  content: string;
}

type Message = { role: string; content: string };

async function turn(on: Gateway, messages: Message[], extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Turn> {
  const res = await postJson(`${on.baseURL}/chat/completions`, { model: MODEL, messages, ...extra }, headers);
  const body = (await res.json()) as { choices?: { message: { content: string } }[] };
  return { status: res.status, provider: res.headers.get('x-pool-provider'), content: body.choices?.[0]?.message.content ?? '' };
}

/** Who answered each of `n` single-message turns of one named conversation. */
async function namedTurns(on: Gateway, n: number, session: string): Promise<string[]> {
  const providers: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = await turn(on, [{ role: 'user', content: `turn ${i}` }], {}, { 'x-session-id': session });
    expect(t.status).toBe(200);
    providers.push(t.provider!);
  }
  return providers;
}

/** The keys DeepInfra saw, in order. */
const deepinfraKeys = () =>
  emu
    .requests('deepinfra')
    .filter((r) => r.path.endsWith('/chat/completions'))
    .map((r) => String(r.headers.authorization).replace(/^Bearer /, ''));

describe('a conversation keeps its route', () => {
  it('x-session-id: every turn goes to the provider of the first, where without affinity they spread', async () => {
    const session = `s-${++conversation}`;
    expect(new Set(await namedTurns(gw, TURNS, session)).size).toBe(1);
    expect(new Set(await namedTurns(off, TURNS * 2, session)).size).toBeGreaterThan(1);
  });

  it('prompt_cache_key and user name a conversation as well', async () => {
    for (const named of [{ prompt_cache_key: `pck-${++conversation}` }, { user: `user-${++conversation}` }]) {
      const seen = new Set<string | null>();
      for (let i = 0; i < TURNS; i++) seen.add((await turn(gw, [{ role: 'user', content: `q ${i}` }], named)).provider);
      expect(seen.size).toBe(1);
    }
  });

  it('without a name, by its system prompt and first user turn: the chat that grows turn by turn stays on one provider', async () => {
    const messages: Message[] = [
      { role: 'system', content: `You are assistant number ${++conversation}.` },
      { role: 'user', content: 'Hello there' },
    ];
    const seen = new Set<string | null>();
    for (let i = 0; i < TURNS; i++) {
      const t = await turn(gw, messages);
      expect(t.status).toBe(200);
      seen.add(t.provider);
      messages.push({ role: 'assistant', content: t.content }, { role: 'user', content: `and then ${i}?` });
    }
    expect(seen.size).toBe(1);
  });

  it('keeps the key too: a conversation on DeepInfra uses one of its two keys, where separate ones alternate', async () => {
    const session = `k-${++conversation}`;
    for (let i = 0; i < 6; i++) await turn(solo, [{ role: 'user', content: `k ${i}` }], {}, { 'x-session-id': session });
    expect(new Set(deepinfraKeys()).size).toBe(1);
    emu.reset();
    for (let i = 0; i < 6; i++) await turn(solo, [{ role: 'user', content: `k ${i}` }], {}, { 'x-session-id': `other-${++conversation}` });
    expect(new Set(deepinfraKeys())).toEqual(new Set(KEYS));
  });

  it('a request that names its provider neither follows the conversation nor moves it', async () => {
    const session = `f-${++conversation}`;
    const [pinned] = await namedTurns(gw, 1, session);
    const other = ['DeepInfra', 'Together'].find((p) => p !== pinned)!;
    const forced = await turn(gw, [{ role: 'user', content: 'forced' }], { provider: other }, { 'x-session-id': session });
    expect(forced.provider).toBe(other);
    expect(new Set(await namedTurns(gw, TURNS, session))).toEqual(new Set([pinned]));
  });
});

describe('a conversation moves at once when its route cannot serve', () => {
  it('its provider fails: the turn is answered by another, and the conversation stays there once the first is back', async () => {
    const session = `m-${++conversation}`;
    const [pinned] = await namedTurns(gw, 2, session);
    const id = pinned!.toLowerCase().replace(/ai$/, '') as 'deepinfra';
    emu.addFault({ provider: id, mode: 'status', status: 503 });
    const moved = await namedTurns(gw, 1, session);
    expect(moved[0]).not.toBe(pinned);
    emu.clearFaults();
    expect(new Set(await namedTurns(gw, TURNS, session))).toEqual(new Set([moved[0]]));
  });

  it('its key is rate-limited: the next turn uses the provider’s other key, and keeps it', async () => {
    const session = `q-${++conversation}`;
    const ask = () => turn(solo, [{ role: 'user', content: 'quota' }], {}, { 'x-session-id': session });
    await ask();
    const [first] = deepinfraKeys();
    emu.reset();
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 429, retryAfter: 60, key: first });
    expect((await ask()).status).toBe(200);
    const other = KEYS.find((k) => k !== first)!;
    expect(deepinfraKeys()).toEqual([first, other]);
    emu.reset();
    for (let i = 0; i < 4; i++) await ask();
    expect(deepinfraKeys()).toEqual([other, other, other, other]);
  });
});
