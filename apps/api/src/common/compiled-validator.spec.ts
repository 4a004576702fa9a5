import 'reflect-metadata';
import { inspect, isDeepStrictEqual } from 'node:util';
import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { Exclude, Expose, Transform, Type, plainToInstance } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
  ValidatePromise,
  registerDecorator,
  validate,
  type ValidationArguments,
  type ValidatorOptions,
} from 'class-validator';
import { LoginDto } from '../auth/auth.controller.ts';
import { AddKeyDto, UpdateProviderDto, UpstreamDto } from '../admin/providers-admin.dto.ts';
import { CreateClientKeyDto, UpdateClientKeyDto } from '../client-keys/client-keys.controller.ts';
import { SPEECH_FORMATS } from '../media/media-bytes.ts';
import { ChatCompletionRequestDto, ChatMessageDto } from '../openai-compat/chat-request.dto.ts';
import { IMAGE_QUALITIES, IMAGE_RESPONSE_FORMATS, IMAGE_STYLES, ImageGenerationRequestDto } from '../openai-compat/image-request.dto.ts';
import { SPEECH_VOICES, SpeechRequestDto } from '../openai-compat/speech-request.dto.ts';
import { LogsQueryDto, STATS_DIMENSIONS, STATS_GRANULARITIES, STATS_RANGES, StatsQueryDto } from '../stats/stats-query.dto.ts';
import { NOT_PLAIN, ValidatorCompiler, copyPlainData } from './compiled-validator.ts';
import { OpenAIValidationPipe } from './validation.pipe.ts';

type Ctor = new () => object;
type Body = Record<string, unknown>;

/** The validator options of OpenAIValidationPipe, as ValidationPipe passes them to class-validator. */
const PIPE_OPTIONS: ValidatorOptions = { forbidUnknownValues: false, validationError: { target: false, value: false } };
const compiler = new ValidatorCompiler(PIPE_OPTIONS);

/** What the pipe's normal path decides: class-validator on class-transformer's instance. */
async function classValidatorAccepts(cls: Ctor, value: unknown): Promise<boolean> {
  return (await validate(plainToInstance(cls, value) as object, PIPE_OPTIONS)).length === 0;
}

/** The same, or 'throws' when class-transformer itself fails (e.g. on a nested `constructor` key). */
async function verdict(cls: Ctor, value: unknown): Promise<'valid' | 'invalid' | 'throws'> {
  try {
    return (await classValidatorAccepts(cls, value)) ? 'valid' : 'invalid';
  } catch {
    return 'throws';
  }
}

function predicate(cls: Ctor): (value: unknown) => boolean {
  const p = compiler.compile(cls);
  if (!p) throw new Error(`${cls.name} did not compile`);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Seeded generation
// ---------------------------------------------------------------------------------------------

/** mulberry32: small, fast, and the same sequence for the same seed. */
class Rand {
  constructor(private seed: number) {}
  next(): number {
    this.seed = (this.seed + 0x6d2b79f5) | 0;
    let t = Math.imul(this.seed ^ (this.seed >>> 15), 1 | this.seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  num(lo: number, hi: number): number {
    // The bounds themselves, whole numbers and fractions.
    return this.pick([lo, hi, this.int(Math.ceil(lo), Math.floor(hi)), lo + (hi - lo) * this.next()]);
  }
}

const TEXTS = ['a', 'hello world', ' ', 'gpt-4o-mini', 'Ünïcödé', '日本語', '\u{1F600}\u{1F600}', 'a\uFE0F', 'line\nbreak', '"quoted"', '0', 'true', 'null'];
const text = (r: Rand) => (r.chance(0.05) ? 'x'.repeat(r.int(100, 3000)) : r.pick(TEXTS));
const textOrEmpty = (r: Rand) => (r.chance(0.2) ? '' : text(r));

/** Values of every kind, for the wrong-type mutations. */
function weird(r: Rand, depth = 0): unknown {
  const simple = [
    null,
    undefined,
    '',
    ' ',
    'x',
    'user',
    'auto',
    '1',
    '1024x1024',
    0,
    -0,
    1,
    -1,
    0.5,
    1.5,
    2,
    2.0000001,
    -2,
    3,
    4096,
    1e308,
    -1e308,
    1e21,
    2 ** 53 + 2,
    NaN,
    Infinity,
    -Infinity,
    true,
    false,
  ];
  if (depth > 2 || r.chance(0.6)) return r.pick(simple);
  switch (r.int(0, 7)) {
    case 0:
      return [];
    case 1:
      return Array.from({ length: r.int(1, 6) }, () => weird(r, depth + 1));
    case 2:
      return {};
    case 3:
      return { type: r.pick(['text', 1, null]), [r.pick(['a', 'role', 'content'])]: weird(r, depth + 1) };
    case 4:
      return 'x'.repeat(r.pick([4095, 4096, 4097, 32_000, 32_001]));
    case 5:
      return '\u{1F600}'.repeat(r.pick([2047, 2048, 2049, 4096, 4097]));
    case 6:
      return [text(r), text(r), text(r), text(r), text(r)].slice(0, r.int(0, 5));
    default:
      return r.pick([new Date(0), Buffer.from('bin'), new Map([['a', 1]]), new Set([1]), Object.create(null) as object]);
  }
}

interface Field {
  gen: (r: Rand) => unknown;
  required?: boolean;
  /** null is valid too (IsOptional, or ValidateIf skipping null). */
  nullable?: boolean;
}
type Spec = Record<string, Field>;

function genValid(spec: Spec, r: Rand): Body {
  const body: Body = {};
  for (const [name, f] of Object.entries(spec)) {
    if (f.required || r.chance(0.5)) body[name] = f.nullable && r.chance(0.15) ? null : f.gen(r);
  }
  // Unknown fields pass through to the upstream.
  if (r.chance(0.3)) body[r.pick(['metadata', 'logprobs', 'x_extra', 'parallel_tool_calls'])] = weird(r);
  return body;
}

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'];
const part = (r: Rand) => (r.chance(0.7) ? { type: 'text', text: text(r) } : { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } });

function validMessage(r: Rand): Body {
  const role = r.pick(ROLES);
  const m: Body = { role };
  const content = r.int(0, 4);
  if (content === 0) m.content = textOrEmpty(r);
  else if (content === 1) m.content = Array.from({ length: r.int(0, 3) }, () => part(r));
  else if (role !== 'user') m.content = r.chance(0.5) ? null : undefined;
  else m.content = text(r);
  if (m.content === undefined && r.chance(0.5)) delete m.content;
  if (r.chance(0.2)) m.name = text(r);
  if (r.chance(0.2)) m.tool_calls = r.chance(0.5) ? null : [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }];
  if (r.chance(0.2)) m.tool_call_id = r.chance(0.2) ? null : 'call_1';
  return m;
}

const CHAT: Spec = {
  model: { gen: text, required: true },
  messages: { gen: (r) => Array.from({ length: r.int(1, 6) }, () => validMessage(r)), required: true },
  stream: { gen: (r) => r.chance(0.5), nullable: true },
  stream_options: { gen: (r) => (r.chance(0.5) ? { include_usage: r.chance(0.5) } : {}), nullable: true },
  provider: { gen: text, nullable: true },
  temperature: { gen: (r) => r.num(0, 2), nullable: true },
  top_p: { gen: (r) => r.num(0, 1), nullable: true },
  max_tokens: { gen: (r) => r.pick([1, 256, 4096, 2 ** 31, Number.MAX_SAFE_INTEGER]), nullable: true },
  max_completion_tokens: { gen: (r) => r.int(1, 100_000), nullable: true },
  stop: { gen: (r) => (r.chance(0.5) ? textOrEmpty(r) : Array.from({ length: r.int(0, 4) }, () => textOrEmpty(r))), nullable: true },
  seed: { gen: (r) => r.int(-1000, 1000), nullable: true },
  presence_penalty: { gen: (r) => r.num(-2, 2), nullable: true },
  frequency_penalty: { gen: (r) => r.num(-2, 2), nullable: true },
  user: { gen: textOrEmpty, nullable: true },
  tools: {
    gen: (r) =>
      r.chance(0.3) ? [] : [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    nullable: true,
  },
  tool_choice: { gen: (r) => (r.chance(0.7) ? r.pick(['none', 'auto', 'required']) : { type: 'function', function: { name: 'f' } }), nullable: true },
  response_format: { gen: (r) => r.pick([{ type: 'json_object' }, { type: 'text' }, {}]), nullable: true },
  n: { gen: () => 1, nullable: true },
};

const imageSize = (r: Rand) => (r.chance(0.3) ? 'auto' : `${r.pick([64, 512, 1024, 1792, 4096])}x${r.pick([64, 768, 1024, 4096])}`);
const IMAGES: Spec = {
  model: { gen: text, nullable: true },
  prompt: { gen: (r) => (r.chance(0.05) ? 'p'.repeat(32_000) : text(r)), required: true },
  n: { gen: (r) => r.int(1, 10), nullable: true },
  size: { gen: imageSize, nullable: true },
  response_format: { gen: (r) => r.pick(IMAGE_RESPONSE_FORMATS), nullable: true },
  quality: { gen: (r) => r.pick(IMAGE_QUALITIES), nullable: true },
  style: { gen: (r) => r.pick(IMAGE_STYLES), nullable: true },
  user: { gen: textOrEmpty, nullable: true },
  seed: { gen: (r) => r.int(0, 2 ** 31), nullable: true },
  steps: { gen: (r) => r.int(1, 100), nullable: true },
  negative_prompt: { gen: textOrEmpty, nullable: true },
  provider: { gen: text, nullable: true },
};

// 3000 emoji: .length 6000, but 3000 characters for MaxLength(4096), which counts surrogate pairs as one.
const speechInput = (r: Rand) => r.pick([text(r), 'i'.repeat(4096), '\u{1F600}'.repeat(3000)]);
const SPEECH: Spec = {
  model: { gen: text, required: true },
  input: { gen: speechInput, required: true },
  voice: { gen: (r) => r.pick(SPEECH_VOICES), required: true },
  response_format: { gen: (r) => r.pick(SPEECH_FORMATS), nullable: true },
  speed: { gen: (r) => r.num(0.25, 4), nullable: true },
  instructions: { gen: (r) => (r.chance(0.2) ? '' : speechInput(r)), nullable: true },
  stream_format: { gen: () => 'audio', nullable: true },
  provider: { gen: text, nullable: true },
};

const url = (r: Rand) => r.pick(['http://127.0.0.1:8000/v1', 'https://api.example.com/v1', 'http://localhost:11434/v1', 'https://gateway.ai.cloudflare.com']);
const UPDATE_PROVIDER: Spec = {
  enabled: { gen: (r) => r.chance(0.5), nullable: true },
  baseUrl: { gen: url, nullable: true },
  proxy: { gen: url, nullable: true },
  priority: { gen: (r) => r.int(0, 100), nullable: true },
  extra: { gen: () => ({ accountId: 'abc' }), nullable: true },
};
const ADD_KEY: Spec = {
  key: { gen: (r) => r.pick(['sk-123', 'k'.repeat(4096), text(r)]), required: true },
  label: { gen: (r) => r.pick(['', 'account 2', 'l'.repeat(100)]), nullable: true },
};
const UPSTREAM: Spec = {
  name: { gen: (r) => r.pick(['ollama', 'a', 'A1_.-z', `x${'y'.repeat(39)}`]), required: true },
  baseUrl: { gen: url, required: true },
  enabled: { gen: (r) => r.chance(0.5), nullable: true },
  proxy: { gen: url, nullable: true },
  priority: { gen: (r) => r.int(0, 100), nullable: true },
  ownedBy: { gen: (r) => r.pick(['', 'meta', 'o'.repeat(60)]), nullable: true },
  models: { gen: () => ({ 'qwen2.5-7b': 'qwen2.5:7b' }), required: true },
};
const LOGIN: Spec = { password: { gen: (r) => r.pick(['p', 'secret', 'p'.repeat(1024), '\u{1F600}'.repeat(1024), 'a\uFE0F']), required: true } };
const CREATE_CLIENT_KEY: Spec = {
  name: { gen: (r) => r.pick(['team A', ' x ', 'n'.repeat(100)]), required: true },
  rpmLimit: { gen: (r) => r.pick([1, 60, 1_000_000]), nullable: true },
};
const UPDATE_CLIENT_KEY: Spec = {
  name: { gen: (r) => r.pick(['team A', ' x ', 'n'.repeat(100)]) },
  rpmLimit: { gen: (r) => r.pick([1, 60, 1_000_000]), nullable: true },
};
// Query strings: text, and an empty parameter counts as absent.
const STATS_QUERY: Spec = {
  range: { gen: (r) => r.pick([...STATS_RANGES, '']) },
  granularity: { gen: (r) => r.pick([...STATS_GRANULARITIES, '']) },
  dimension: { gen: (r) => r.pick([...STATS_DIMENSIONS, '']) },
};
const LOGS_QUERY: Spec = {
  page: { gen: (r) => r.pick(['1', '2', '1000000', '']) },
  pageSize: { gen: (r) => r.pick(['1', '50', '200']) },
  from: { gen: (r) => r.pick(['0', '1700000000000', '2030-01-01T08:00:00Z', '2030-01-01', '']) },
  to: { gen: (r) => r.pick(['2030-01-01T08:00:00.123+08:00', '1700000000000']) },
  model: { gen: textOrEmpty },
  provider: { gen: textOrEmpty },
  status: { gen: (r) => r.pick(['200', '599', '100', 'success', 'error']) },
  clientKey: { gen: textOrEmpty },
};

interface Case {
  cls: Ctor;
  spec: Spec;
  runs: number;
}
const CASES: Case[] = [
  { cls: ChatCompletionRequestDto, spec: CHAT, runs: 4000 },
  { cls: ImageGenerationRequestDto, spec: IMAGES, runs: 1500 },
  { cls: SpeechRequestDto, spec: SPEECH, runs: 1500 },
  { cls: UpdateProviderDto, spec: UPDATE_PROVIDER, runs: 1000 },
  { cls: AddKeyDto, spec: ADD_KEY, runs: 800 },
  { cls: UpstreamDto, spec: UPSTREAM, runs: 1000 },
  { cls: LoginDto, spec: LOGIN, runs: 500 },
  { cls: CreateClientKeyDto, spec: CREATE_CLIENT_KEY, runs: 800 },
  { cls: UpdateClientKeyDto, spec: UPDATE_CLIENT_KEY, runs: 800 },
  { cls: StatsQueryDto, spec: STATS_QUERY, runs: 800 },
  { cls: LogsQueryDto, spec: LOGS_QUERY, runs: 1000 },
];

/** Keys that class-transformer skips and the pipe's stripProtoKeys deletes. */
const SPECIAL_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** Sets `key` as an own property, as JSON.parse does (even for `__proto__`). */
function setOwn(o: object, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** An object or array somewhere in `body` (the body itself included). */
function someContainer(r: Rand, body: unknown): object {
  let at = body as object;
  for (let depth = 0; depth < 4 && r.chance(0.6); depth++) {
    const inner = Object.values(at).filter(
      (v): v is object => typeof v === 'object' && v !== null && (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype),
    );
    if (!inner.length) break;
    at = r.pick(inner);
  }
  return at;
}

/** 1 to 3 random changes to a valid body: wrong types, missing fields, nested errors, extra and special keys. */
function mutate(r: Rand, body: Body, spec: Spec): Body {
  const fields = Object.keys(spec);
  for (let i = r.int(1, 3); i > 0; i--) {
    const field = r.pick(fields);
    switch (r.int(0, 9)) {
      case 0:
        delete body[field];
        break;
      case 1:
      case 2:
      case 3:
        body[field] = weird(r);
        break;
      case 4:
        // Near-valid: another field's valid value.
        body[field] = spec[r.pick(fields)]!.gen(r);
        break;
      case 5: {
        const messages = body.messages;
        if (Array.isArray(messages) && messages.length) {
          const at = r.int(0, messages.length - 1);
          if (r.chance(0.3)) messages[at] = r.chance(0.5) ? weird(r) : [validMessage(r)];
          else if (typeof messages[at] === 'object' && messages[at] !== null)
            (messages[at] as Body)[r.pick(['role', 'content', 'name', 'tool_calls', 'tool_call_id'])] = weird(r);
        } else body[r.pick(['extra', 'metadata'])] = weird(r);
        break;
      }
      case 6:
        body[`x_${r.int(0, 9)}`] = weird(r);
        break;
      case 7:
        setOwn(someContainer(r, body), r.pick(SPECIAL_KEYS), r.chance(0.5) ? weird(r) : { polluted: true });
        break;
      case 8:
        if (Array.isArray(body.messages)) body.messages = r.chance(0.5) ? [] : body.messages[0];
        else body[field] = undefined;
        break;
      default:
        body[field] = null;
    }
  }
  return body;
}

/** A body as express.json gives it, or (less often) with values JSON cannot hold. */
function asSent(r: Rand, body: Body): Body {
  if (r.chance(0.5)) return body;
  try {
    return JSON.parse(JSON.stringify(body)) as Body;
  } catch {
    return body;
  }
}

/** A deep copy keeping what the pipe looks at: own `__proto__` keys, holes, -0, undefined; other objects are shared. */
function clone<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (const k of Object.keys(v)) out[Number(k)] = clone(v[Number(k)]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(v) as object | null;
  if (proto !== Object.prototype && proto !== null) return v;
  const out = Object.create(proto) as object;
  for (const k of Object.keys(v)) setOwn(out, k, clone((v as Body)[k]));
  return out as T;
}

/** Deep equality that also compares key order, prototypes and -0 (other objects: deep strict equality). */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (!Array.isArray(a) && Object.getPrototypeOf(a) !== Object.prototype && Object.getPrototypeOf(a) !== null) return isDeepStrictEqual(a, b);
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  if (Array.isArray(a) && (a.length !== (b as unknown[]).length || [...a.keys()].some((i) => i in a !== i in (b as unknown[])))) return false;
  return ka.every((k) => same((a as Body)[k], (b as Body)[k]));
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
const settle = (p: Promise<unknown>): Promise<Outcome> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
const describeError = (e: unknown) => (e instanceof Error ? { ...e, class: e.constructor.name, message: e.message } : { thrown: e });

const md = (cls: Ctor): ArgumentMetadata => ({ type: 'body', metatype: cls, data: undefined });

/** ValidationPipe's own path, with OpenAIValidationPipe's options: the pipe as it was before the fast path. */
const normalPath = (pipe: OpenAIValidationPipe, value: unknown, cls: Ctor): Promise<unknown> =>
  ValidationPipe.prototype.transform.call(pipe, value, md(cls)) as Promise<unknown>;

// ---------------------------------------------------------------------------------------------

describe('compiled validator: differential against class-validator, for every DTO the app validates', () => {
  const pipe = new OpenAIValidationPipe();

  it.each(CASES.map((c) => [c.cls.name, c] as const))(
    '%s: fast answers agree with class-validator and the pipe returns the same',
    async (_name, { cls, spec, runs }) => {
      const valid = predicate(cls);
      const r = new Rand(0x5eed ^ (cls.name.length * 7919));
      let validPlain = 0;
      let validFast = 0;
      let invalidGenerated = 0;
      for (let i = 0; i < runs; i++) {
        const seed = Math.floor(r.next() * 2 ** 31);
        // The same body, built twice from one seed: the pipe's normal path mutates what it is given.
        const make = () => {
          const g = new Rand(seed);
          const body = genValid(spec, g);
          const isMutated = g.chance(0.6);
          return { body: asSent(g, isMutated ? mutate(g, body, spec) : body), isMutated };
        };
        const { body, isMutated } = make();
        const context = () => `${cls.name} run ${i} (seed ${seed}): ${inspect(body, { depth: 8, breakLength: Infinity, maxStringLength: 80 })}`;

        // Plain JSON data: what the pipe's fast path takes (anything else goes the normal path).
        const plain = copyPlainData(body) !== NOT_PLAIN;
        const expected = await verdict(cls, clone(body));
        const fast = valid(clone(body));
        // One-sided in general (false for anything but plain data); exact for plain JSON data.
        if (fast && expected !== 'valid')
          throw new Error(`fast path accepts what class-validator ${expected === 'invalid' ? 'rejects' : 'throws on'}: ${context()}`);
        if (plain && fast !== (expected === 'valid')) throw new Error(`fast path answers ${fast}, class-validator ${expected}: ${context()}`);
        if (plain && expected === 'throws') throw new Error(`class-transformer throws on plain data: ${context()}`);

        if (!isMutated) {
          if (expected !== 'valid') throw new Error(`generator made an invalid body: ${context()}`);
          if (plain) validPlain++;
          if (plain && fast) validFast++;
        } else if (expected === 'invalid') invalidGenerated++;

        // The pipe: same value (key order, -0 and all) or same error, and the input left as the normal path leaves it.
        const a = make().body;
        const b = make().body;
        const [got, want] = await Promise.all([settle(pipe.transform(a, md(cls))), settle(normalPath(pipe, b, cls))]);
        if (got.ok !== want.ok) throw new Error(`pipe ${got.ok ? 'accepts' : 'rejects'}, normal path does not: ${context()}`);
        if (got.ok && want.ok && !same(got.value, want.value)) {
          throw new Error(`pipe returns ${JSON.stringify(got.value)}, normal path ${JSON.stringify(want.value)}: ${context()}`);
        }
        if (!got.ok && !want.ok) expect(describeError(got.error)).toEqual(describeError(want.error));
        if (!same(a, b)) throw new Error(`input left differently: ${context()}`);
        if (got.ok && got.value === a) throw new Error(`pipe returned the body itself, the normal path returns a copy: ${context()}`);
      }
      // Normal requests take the fast path, every one of them.
      expect(validPlain).toBeGreaterThan(runs * 0.25);
      expect(validFast).toBe(validPlain);
      expect(invalidGenerated).toBeGreaterThan(runs * 0.15);
    },
  );

  it('the nested message class compiles and is checked on its own', async () => {
    const valid = predicate(ChatMessageDto);
    expect(valid({ role: 'user', content: 'hi' })).toBe(true);
    expect(valid({ role: 'user' })).toBe(false);
    expect(await classValidatorAccepts(ChatMessageDto, { role: 'user' })).toBe(false);
    expect(valid({ role: 'assistant', content: null })).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Each supported rule, on its edge cases, against class-validator
// ---------------------------------------------------------------------------------------------

class NumberRule {
  @IsNumber() v!: number;
}
class NumberNaNRule {
  @IsNumber({ allowNaN: true, allowInfinity: true }) v!: number;
}
class NumberDecimalsRule {
  @IsNumber({ maxDecimalPlaces: 1 }) v!: number;
}
class IntRule {
  @IsInt() v!: number;
}
class StringRule {
  @IsString() v!: string;
}
class BooleanRule {
  @IsBoolean() v!: boolean;
}
class ArrayRule {
  @IsArray() v!: unknown[];
}
class ObjectRule {
  @IsObject() v!: object;
}
class NotEmptyRule {
  @IsNotEmpty() v!: unknown;
}
class InRule {
  @IsIn(['a', 1, null]) v!: unknown;
}
class MinMaxRule {
  @Min(-1) @Max(1) v!: number;
}
class ArraySizeRule {
  @ArrayMinSize(1) @ArrayMaxSize(2) v!: unknown[];
}
class MaxLengthRule {
  @MaxLength(3) v!: string;
}
class MinLengthRule {
  @MinLength(2) v!: string;
}
class MatchesRule {
  @Matches(/^a+$/) v!: string;
}
class OptionalRule {
  @IsOptional() @IsString() v?: string;
}
class ValidateIfRule {
  @ValidateIf((o: ValidateIfRule) => o.other === 'check') @IsString() v?: string;
  other?: string;
}
class EachRule {
  @IsString({ each: true }) v!: string[];
}
class EachInRule {
  @IsIn(['x', 'y'], { each: true }) v!: string[];
}
class RuleValidateIfOption {
  @IsString({ validateIf: (o: RuleValidateIfOption) => o.strict === true }) v!: unknown;
  strict?: boolean;
}
class Item {
  @IsString() name!: string;
}
class NestedTypedRule {
  @ValidateNested({ each: true }) @Type(() => Item) v!: Item[];
}
class NestedObjectRule {
  @IsOptional() @ValidateNested() @Type(() => Item) v?: Item;
}
class NestedUntypedRule {
  @ValidateNested() v!: unknown;
}
class Tree {
  @IsString() label!: string;
  @IsOptional() @ValidateNested({ each: true }) @Type(() => Tree) children?: Tree[];
}

/** Custom rules see what class-validator passes: the instance, the property, the constraints. */
const seenArgs: ValidationArguments[] = [];
function IsEvenWith(constraint: number) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isEvenWith',
      target: target.constructor,
      propertyName: property,
      constraints: [constraint],
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          seenArgs.push(args);
          return typeof value === 'number' && (value + (args.constraints[0] as number)) % 2 === 0;
        },
      },
    });
}
class CustomRule {
  @IsEvenWith(1) v!: number;
  other?: string;
}
/** A custom rule that borrows a built-in name: it must be called, not taken for IsString. */
function IsStringLookalike() {
  return (target: object, property: string) =>
    registerDecorator({ name: 'isString', target: target.constructor, propertyName: property, validator: { validate: (v: unknown) => v === 'ok' } });
}
class LookalikeRule {
  @IsStringLookalike() v!: unknown;
}
function ReturnsTruthy() {
  return (target: object, property: string) =>
    registerDecorator({ name: 'returnsTruthy', target: target.constructor, propertyName: property, validator: { validate: (v: unknown) => v as boolean } });
}
class TruthyRule {
  @ReturnsTruthy() v!: unknown;
}

const EDGE_VALUES: unknown[] = [
  undefined,
  null,
  '',
  ' ',
  'a',
  'aa',
  'aaa',
  'aaaa',
  'b',
  'x',
  'y',
  'ok',
  '1',
  '\u{1F600}\u{1F600}\u{1F600}',
  '\u{1F600}\u{1F600}\u{1F600}\u{1F600}',
  'a\uFE0F',
  0,
  -0,
  1,
  -1,
  1.0,
  1.5,
  -1.5,
  1.05,
  2,
  -2,
  1e21,
  Number.MAX_SAFE_INTEGER + 2,
  NaN,
  Infinity,
  -Infinity,
  true,
  false,
  [],
  [null],
  ['a'],
  ['a', 'b'],
  ['a', 'b', 'c'],
  ['x', 'y'],
  ['x', 'z'],
  [1],
  [{}],
  [{ name: 'n' }],
  [{ name: 1 }],
  [{ name: 'n' }, null],
  [{ name: 'n' }, 'str'],
  [[{ name: 'n' }]],
  [[{ name: 2 }]],
  [undefined, { name: 'n' }],
  {},
  { name: 'n' },
  { name: 5 },
  { a: 1 },
  { label: 'root', children: [{ label: 'leaf' }, { label: 'leaf', children: [] }] },
  { label: 'root', children: [{ label: 'leaf', children: [{ label: 3 }] }] },
  { label: 'root', children: null },
];

describe('compiled validator: each rule on its edge cases', () => {
  const rules: Ctor[] = [
    NumberRule,
    NumberNaNRule,
    NumberDecimalsRule,
    IntRule,
    StringRule,
    BooleanRule,
    ArrayRule,
    ObjectRule,
    NotEmptyRule,
    InRule,
    MinMaxRule,
    ArraySizeRule,
    MaxLengthRule,
    MinLengthRule,
    MatchesRule,
    OptionalRule,
    EachRule,
    EachInRule,
    NestedTypedRule,
    NestedObjectRule,
    NestedUntypedRule,
    CustomRule,
    LookalikeRule,
    TruthyRule,
  ];

  it.each(rules.map((cls) => [cls.name, cls] as const))('%s answers as class-validator for every edge value', async (_name, cls) => {
    const valid = predicate(cls);
    for (const v of EDGE_VALUES) {
      const body = { v };
      expect([v, valid(clone(body))]).toEqual([v, await classValidatorAccepts(cls, clone(body))]);
    }
  });

  it('whole objects: ValidateIf, a rule validateIf option, a self-nesting class', async () => {
    const cases: [Ctor, Body][] = [
      [ValidateIfRule, {}],
      [ValidateIfRule, { v: 1 }],
      [ValidateIfRule, { v: 1, other: 'check' }],
      [ValidateIfRule, { v: 's', other: 'check' }],
      [RuleValidateIfOption, { v: 1 }],
      [RuleValidateIfOption, { v: 1, strict: true }],
      [RuleValidateIfOption, { v: 's', strict: true }],
      ...EDGE_VALUES.filter((v) => typeof v === 'object' && v !== null && !Array.isArray(v)).map((v) => [Tree, v as Body] as [Ctor, Body]),
    ];
    for (const [cls, body] of cases)
      expect([cls.name, body, predicate(cls)(clone(body))]).toEqual([cls.name, body, await classValidatorAccepts(cls, clone(body))]);
  });

  it('IsNumber() rejects NaN and ±Infinity, accepts any finite number', () => {
    const valid = predicate(NumberRule);
    expect([NaN, Infinity, -Infinity, '1', null].map((v) => valid({ v }))).toEqual([false, false, false, false, false]);
    expect([0, -0, 1.5, 1e308, -2].map((v) => valid({ v }))).toEqual([true, true, true, true, true]);
  });

  it('IsInt accepts 1.0 and 2^53+2, not 1.5; Min/Max want numbers', () => {
    expect([1.0, Number.MAX_SAFE_INTEGER + 2, 1.5, '1'].map((v) => predicate(IntRule)({ v }))).toEqual([true, true, false, false]);
    expect([-1, 1, 0.5, -1.5, '0', null, true].map((v) => predicate(MinMaxRule)({ v }))).toEqual([true, true, true, false, false, false, false]);
  });

  it('IsNotEmpty refuses "", null and undefined only; IsOptional skips null and undefined, not ""', () => {
    expect(['', null, undefined, ' ', 0, false, []].map((v) => predicate(NotEmptyRule)({ v }))).toEqual([false, false, false, true, true, true, true]);
    expect([null, undefined, '', 1].map((v) => predicate(OptionalRule)({ v }))).toEqual([true, true, true, false]);
    expect(predicate(OptionalRule)({})).toBe(true);
  });

  it('IsIn compares strictly; IsObject refuses arrays and null', () => {
    expect(['a', 1, null, '1', 'A', undefined, true].map((v) => predicate(InRule)({ v }))).toEqual([true, true, true, false, false, false, false]);
    expect([{}, [], null, 'x'].map((v) => predicate(ObjectRule)({ v }))).toEqual([true, false, false, false]);
  });

  it('MaxLength counts a surrogate pair as one character, as validator.js does', async () => {
    const valid = predicate(MaxLengthRule);
    expect(valid({ v: '\u{1F600}\u{1F600}\u{1F600}' })).toBe(true);
    expect(await classValidatorAccepts(MaxLengthRule, { v: '\u{1F600}\u{1F600}\u{1F600}' })).toBe(true);
    expect(valid({ v: 'aaaa' })).toBe(false);
  });

  it('ValidateNested: arrays of any depth, undefined items pass, null and primitives fail', () => {
    const valid = predicate(NestedTypedRule);
    expect(valid({ v: [{ name: 'a' }, [{ name: 'b' }], undefined] })).toBe(true);
    expect(valid({ v: [null] })).toBe(false);
    expect(valid({ v: ['a'] })).toBe(false);
    expect(valid({ v: [{ name: 1 }] })).toBe(false);
    expect(valid({})).toBe(true); // undefined: nothing to validate, and no other rule
  });

  it('custom rules get the instance, the property and the constraints, as class-validator gives them', async () => {
    seenArgs.length = 0;
    await classValidatorAccepts(CustomRule, { v: 3, other: 'o' });
    const expected = seenArgs.splice(0);
    expect(predicate(CustomRule)({ v: 3, other: 'o' })).toBe(true);
    const got = seenArgs.splice(0);
    expect(got).toHaveLength(1);
    expect(got[0]!.object).toBeInstanceOf(CustomRule);
    expect({ ...got[0], object: { ...got[0]!.object } }).toEqual({ ...expected[0], object: { ...expected[0]!.object } });
  });

  it('a rule that throws makes the pipe take the normal path, which throws the same', async () => {
    function Throws() {
      return (target: object, property: string) =>
        registerDecorator({
          name: 'throws',
          target: target.constructor,
          propertyName: property,
          validator: {
            validate: () => {
              throw new Error('boom');
            },
          },
        });
    }
    class ThrowingRule {
      @Throws() v!: unknown;
    }
    const pipe = new OpenAIValidationPipe();
    await expect(pipe.transform({ v: 1 }, md(ThrowingRule))).rejects.toThrow('boom');
  });
});

// ---------------------------------------------------------------------------------------------
// What the compiler does not understand compiles to null
// ---------------------------------------------------------------------------------------------

describe('compiled validator: unsupported classes and options compile to null', () => {
  class WithIsDefined {
    @IsDefined() v!: unknown;
  }
  class WithGroups {
    @IsString({ groups: ['admin'] }) v!: string;
  }
  class WithAlways {
    @IsString({ always: true }) v!: string;
  }
  class WithPromise {
    @ValidatePromise() @IsString() v!: Promise<string>;
  }
  function IsAsync() {
    return (target: object, property: string) =>
      registerDecorator({ name: 'isAsync', async: true, target: target.constructor, propertyName: property, validator: { validate: async () => true } });
  }
  class WithAsync {
    @IsAsync() v!: unknown;
  }
  class WithTransform {
    @Transform(({ value }: { value: unknown }) => String(value)) @IsString() v!: string;
  }
  class WithExpose {
    @Expose({ name: 'w' }) @IsString() v!: string;
  }
  class WithExclude {
    @Exclude() @IsString() v!: string;
  }
  class Base {
    @IsString() v!: string;
  }
  class Derived extends Base {
    @IsInt() n!: number;
  }
  class WithInitializer {
    @IsOptional() @IsBoolean() v?: boolean = false;
  }
  class WithMethod {
    @IsString() v!: string;
    shout(): string {
      return this.v.toUpperCase();
    }
  }
  class Cat {
    @IsString() kind!: string;
  }
  class WithDiscriminator {
    @ValidateNested()
    @Type(() => Cat, { discriminator: { property: 'kind', subTypes: [{ value: Cat, name: 'cat' }] } })
    pet!: Cat;
  }
  class WithTypeOptions {
    @ValidateNested() @Type((options) => (options?.object ? Cat : Item)) pet!: Cat;
  }
  class WithUnsupportedNested {
    @ValidateNested() @Type(() => WithIsDefined) inner!: WithIsDefined;
  }
  class WithTypedButNotValidated {
    @IsOptional() @Type(() => WithExpose) inner?: WithExpose;
  }
  class WithPrototypeName {
    @IsString() toString!: () => string; // a validated property named like an Object.prototype member
  }
  class WithAllow {
    @Allow() v?: unknown;
    @IsString() s!: string;
  }

  it.each(
    [WithIsDefined, WithGroups, WithAlways, WithPromise, WithAsync, WithTransform, WithExpose, WithExclude, Derived, WithInitializer, WithMethod].map(
      (cls) => [cls.name, cls as Ctor] as const,
    ),
  )('%s', (_name, cls) => {
    expect(compiler.compile(cls)).toBeNull();
  });

  it.each(
    [WithDiscriminator, WithTypeOptions, WithUnsupportedNested, WithTypedButNotValidated, WithPrototypeName].map((cls) => [cls.name, cls as Ctor] as const),
  )('%s', (_name, cls) => {
    expect(compiler.compile(cls)).toBeNull();
  });

  it('non-classes and validator options that change the outcome', () => {
    expect(compiler.compile(undefined)).toBeNull();
    expect(compiler.compile('ChatCompletionRequestDto')).toBeNull();
    for (const options of [
      {},
      { forbidUnknownValues: true },
      { forbidUnknownValues: false, whitelist: true },
      { forbidUnknownValues: false, forbidNonWhitelisted: true },
      { forbidUnknownValues: false, skipMissingProperties: true },
      { forbidUnknownValues: false, skipNullProperties: true },
      { forbidUnknownValues: false, skipUndefinedProperties: true },
      { forbidUnknownValues: false, groups: ['a'] },
      { forbidUnknownValues: false, always: true },
      { forbidUnknownValues: false, strictGroups: true },
    ] as ValidatorOptions[]) {
      expect([options, new ValidatorCompiler(options).compile(StringRule)]).toEqual([options, null]);
    }
    expect(new ValidatorCompiler({ forbidUnknownValues: false, stopAtFirstError: true, dismissDefaultMessages: true }).compile(StringRule)).not.toBeNull();
  });

  it('@Allow is harmless without whitelist', async () => {
    const valid = predicate(WithAllow);
    expect(valid({ v: 1, s: 's' })).toBe(true);
    expect(await classValidatorAccepts(WithAllow, { v: 1, s: 's' })).toBe(true);
  });

  it('the pipe still validates a class that does not compile, by the normal path', async () => {
    const pipe = new OpenAIValidationPipe();
    await expect(pipe.transform({}, md(WithIsDefined))).rejects.toMatchObject({ status: 400, param: 'v' });
    await expect(pipe.transform({ v: 1 }, md(WithIsDefined))).resolves.toEqual({ v: 1 });
  });
});

// ---------------------------------------------------------------------------------------------
// The copy the pipe returns
// ---------------------------------------------------------------------------------------------

describe('copyPlainData', () => {
  it('copies plain JSON data deeply, keeping key order and -0', () => {
    const value = { b: 1, a: [{ z: -0, y: [null, 'x', true] }], c: { d: undefined } };
    const copy = copyPlainData(value) as typeof value;
    expect(same(copy, value)).toBe(true);
    expect(copy).not.toBe(value);
    expect(copy.a).not.toBe(value.a);
    expect(copy.a[0]).not.toBe(value.a[0]);
  });

  it('refuses what the normal path would change or treat differently', () => {
    const cyclic: Body = {};
    cyclic.self = cyclic;
    let deep: unknown = 'leaf';
    for (let i = 0; i < 300; i++) deep = [deep];
    const refused: unknown[] = [
      JSON.parse('{"__proto__": {"x": 1}}'),
      JSON.parse('{"a": {"constructor": 1}}'),
      { a: [{ prototype: 1 }] },
      { toString: 'x' },
      { nested: { hasOwnProperty: 1 } },
      // eslint-disable-next-line no-sparse-arrays
      { a: [1, , 3] },
      { d: new Date(0) },
      { b: Buffer.from('x') },
      { m: new Map() },
      { f: () => 1 },
      { s: Symbol('s') },
      { n: 1n },
      Object.create(null) as object,
      new Item(),
      cyclic,
      deep,
    ];
    for (const value of refused) expect(copyPlainData(value)).toBe(NOT_PLAIN);
  });
});

describe('OpenAIValidationPipe fast path', () => {
  const pipe = new OpenAIValidationPipe();
  const body = () => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0.5, extra: { keep: [1, 2] } });

  it('returns a copy equal to what the normal path returns, leaving the body untouched', async () => {
    const input = body();
    const out = await pipe.transform(input, md(ChatCompletionRequestDto));
    expect(out).not.toBe(input);
    expect(same(out, await normalPath(pipe, body(), ChatCompletionRequestDto))).toBe(true);
    expect(same(input, body())).toBe(true);
  });

  it('gives invalid bodies the same 400 as before', async () => {
    const bad = { model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 3 };
    await expect(pipe.transform(bad, md(ChatCompletionRequestDto))).rejects.toMatchObject({
      status: 400,
      param: 'temperature',
      message: "Invalid value for 'temperature': must not be greater than 2.",
    });
    await expect(pipe.transform({ model: 'm', messages: [{ role: 'user' }] }, md(ChatCompletionRequestDto))).rejects.toMatchObject({
      param: 'messages[0].content',
    });
  });

  it('a body with a special key takes the normal path, which strips it', async () => {
    const input = JSON.parse('{"model":"m","messages":[{"role":"user","content":"hi","constructor":1}],"__proto__":{"x":1},"toString":"s"}') as Body;
    const out = (await pipe.transform(input, md(ChatCompletionRequestDto))) as Body;
    expect(Object.keys(input)).toEqual(['model', 'messages', 'toString']);
    expect(out).toEqual({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  });

  it('leaves non-body arguments and built-in types to ValidationPipe', async () => {
    const query = { range: '24h' };
    expect(await pipe.transform(query, { type: 'query', metatype: StatsQueryDto })).toEqual(query);
    const plain = { a: 1 };
    expect(await pipe.transform(plain, { type: 'body', metatype: Object })).toBe(plain);
  });
});
