import { readFileSync } from 'node:fs';
import type { CatalogModel } from '#contracts';
import { DEFAULT_AUTO_MODELS, estimateTokens, overlay, parseAutoModels, rankModels, tier, type ModelSignals, type RankEntry } from './auto-models.ts';
import { defaultCatalogPath } from './catalog.service.ts';
import type { ProviderRegistry } from '../providers/provider-registry.service.ts';
import { LOW_HEADROOM, ledgerHeadroom } from './auto-models.service.ts';

const model = (id: string, category: CatalogModel['category'] = 'chat'): CatalogModel => ({ id, label: id, owned_by: 'x', category, routes: [] });
const CATALOG = new Map([model('a'), model('b'), model('c'), model('pic', 'image'), model('r1', 'reasoning')].map((m) => [m.id, m]));
const resolve = (id: string) => CATALOG.get(id);

const ok: ModelSignals = { ready: true, successScore: 1, latencyMs: 100, headroom: 'unknown' };
const entry = (id: string, preference: number, signals: Partial<ModelSignals> = {}): RankEntry => ({
  model: model(id),
  preference,
  signals: { ...ok, ...signals },
});
const ranked = (entries: RankEntry[]) => rankModels(entries).map((m) => m.id);

describe('rankModels', () => {
  it('follows the preference list among healthy, ready models', () => {
    expect(ranked([entry('b', 1), entry('a', 0), entry('c', 2)])).toEqual(['a', 'b', 'c']);
  });

  it('puts a model whose routes all cool down, or whose quota is out, last', () => {
    expect(ranked([entry('a', 0, { ready: false }), entry('b', 1), entry('c', 2, { headroom: 'exhausted' })])).toEqual(['b', 'a', 'c']);
  });

  it('ranks a failing or low-quota model after healthy ones but before cooling ones', () => {
    expect(ranked([entry('a', 0, { successScore: 0.2 }), entry('b', 1, { ready: false }), entry('c', 2)])).toEqual(['c', 'a', 'b']);
    expect(ranked([entry('a', 0, { headroom: 'low' }), entry('c', 2)])).toEqual(['c', 'a']);
    expect(tier({ ...ok, headroom: 'plenty' })).toBe(0);
    expect(tier({ ...ok, headroom: 'unknown' })).toBe(0);
  });

  it('orders models of equal preference (the `others`) by measured latency, unmeasured after, then by id', () => {
    expect(
      ranked([entry('c', 3, { latencyMs: null }), entry('b', 3, { latencyMs: 900 }), entry('a', 3, { latencyMs: 50 }), entry('d', 3, { latencyMs: null })]),
    ).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('parseAutoModels', () => {
  it('accepts a clean list: ids as the catalog spells them, duplicates folded, kind chat by default', () => {
    const { models, problems } = parseAutoModels([{ id: ' auto-x ', models: ['a', 'b', 'a'], description: ' mine ' }], resolve);
    expect(problems).toEqual([]);
    expect(models).toEqual([{ id: 'auto-x', kind: 'chat', models: ['a', 'b'], others: false, vision: false, description: 'mine' }]);
  });

  it('names each problem: unknown or mismatched models, catalog ids, duplicates, bad kinds and flags, empty lists', () => {
    const { problems } = parseAutoModels(
      [
        { id: 'auto-1', models: ['nope'] },
        { id: 'auto-2', kind: 'image', models: ['a'] },
        { id: 'a', models: ['b'] },
        { id: 'auto-3', models: ['a'] },
        { id: 'AUTO-3', models: ['b'] },
        { id: 'auto-4', kind: 'audio', models: [] },
        { id: 'auto-5', models: ['a'], others: 'yes' },
        { id: 'auto-6', models: [] },
        { id: 'has space', models: ['a'] },
        { id: 'auto-*', models: ['a'] },
      ],
      resolve,
    );
    expect(problems).toEqual([
      'auto model "auto-1": "nope" is not a catalog model',
      'auto model "auto-1": give at least one model, or others: true',
      'auto model "auto-2": a is a chat model, not image',
      'auto model "auto-2": give at least one model, or others: true',
      'auto model "a": a catalog model has this id',
      'auto model "AUTO-3": given twice',
      'auto model "auto-4": kind must be one of chat, image',
      'auto model "auto-5": others must be true or false',
      'auto model "auto-6": give at least one model, or others: true',
      'auto model "has space": the id is 1 to 64 printable characters without spaces or "*"',
      'auto model "auto-*": the id is 1 to 64 printable characters without spaces or "*"',
    ]);
  });

  it('bounds the list and each preference list', () => {
    expect(parseAutoModels(new Array(21).fill({ id: 'x', models: ['a'] }), resolve).problems).toEqual(['at most 20 auto models, got 21']);
    expect(parseAutoModels([{ id: 'x', models: new Array(51).fill('a') }], resolve).problems[0]).toMatch(/at most 50/);
    expect(parseAutoModels({ id: 'x' }, resolve).problems).toEqual(['expected a list of {id, kind, models}']);
  });

  it('the shipped defaults are valid against the shipped catalog', () => {
    const shipped = JSON.parse(readFileSync(defaultCatalogPath(), 'utf8')) as { models: CatalogModel[] };
    const byId = new Map(shipped.models.map((m) => [m.id, m]));
    expect(parseAutoModels(DEFAULT_AUTO_MODELS, (id) => byId.get(id)).problems).toEqual([]);
    expect(DEFAULT_AUTO_MODELS.map((m) => m.id)).toEqual(['auto', 'auto-coder', 'auto-reasoning', 'auto-vision', 'auto-image']);
  });
});

describe('overlay and estimateTokens', () => {
  it('replaces defaults by id (any case) in place and appends new ones', () => {
    const base = parseAutoModels(
      [
        { id: 'auto', models: ['a'] },
        { id: 'auto-b', models: ['b'] },
      ],
      resolve,
    ).models;
    const over = parseAutoModels(
      [
        { id: 'AUTO-B', models: ['c'] },
        { id: 'auto-new', models: ['a'] },
      ],
      resolve,
    ).models;
    expect(overlay(base, over).map((m) => `${m.id}:${m.models.join(',')}`)).toEqual(['auto:a', 'AUTO-B:c', 'auto-new:a']);
  });

  it('counts about four characters a token plus the answer asked for', () => {
    expect(estimateTokens(['x'.repeat(398)], 100)).toBe(100 + 100);
    expect(estimateTokens([undefined], undefined)).toBe(0);
    expect(estimateTokens(['ab'], -5)).toBe(1);
  });
});

describe('ledgerHeadroom', () => {
  const registry = (best: number | null | undefined) =>
    ({
      find: (name: string) => (name === 'DeepInfra' && best !== undefined ? { keys: { bestHeadroom: () => best } } : undefined),
    }) as unknown as ProviderRegistry;

  it("names a provider's headroom by its best usable key in the quota ledger", () => {
    expect(ledgerHeadroom(registry(0.9)).headroom('DeepInfra', 'm')).toBe('plenty');
    expect(ledgerHeadroom(registry(LOW_HEADROOM / 2)).headroom('DeepInfra', 'm')).toBe('low');
    expect(ledgerHeadroom(registry(0)).headroom('DeepInfra', 'm')).toBe('exhausted');
    expect(ledgerHeadroom(registry(null)).headroom('DeepInfra', 'm')).toBe('unknown');
    expect(ledgerHeadroom(registry(undefined)).headroom('DeepInfra', 'm')).toBe('unknown');
  });
});
