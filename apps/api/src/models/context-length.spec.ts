import type { CatalogModel } from '#contracts';
import { largerContext } from './context-length.ts';

const model = (id: string, context_length: number | undefined, owned_by = 'Meta Llama', extra: Partial<CatalogModel> = {}): CatalogModel => ({
  id,
  label: id,
  owned_by,
  category: 'chat',
  routes: [],
  ...(context_length === undefined ? {} : { context_length }),
  ...extra,
});

describe('largerContext', () => {
  const small = model('llama-3-70b', 8192);
  const catalog = [
    small,
    model('llama-3.1-8b', 131_072),
    model('llama-3.1-70b', 131_072),
    model('qwen-2.5-72b', 32_768, 'Qwen'),
    model('llama-2-70b', 4096),
    model('llama-4', 1_000_000),
    model('mystery', undefined),
    model('flux', 1_000_000, 'Meta Llama', { category: 'image' }),
  ];

  it('same family first, then the same size, then the smallest context that is larger', () => {
    expect(largerContext(small, catalog).map((m) => m.id)).toEqual(['llama-3.1-70b', 'llama-3.1-8b', 'llama-4', 'qwen-2.5-72b']);
  });

  it('a family, when given, wins over the maker', () => {
    const mine = model('mine-7b', 4096, 'Someone', { family: 'qwen' });
    expect(largerContext(mine, [mine, model('llama-7b', 8192), model('qwen-7b', 65_536, 'Qwen', { family: 'qwen' })]).map((m) => m.id)).toEqual([
      'qwen-7b',
      'llama-7b',
    ]);
  });

  it('nothing when the model’s own context is unknown, or nothing is larger', () => {
    expect(largerContext(model('mystery', undefined), catalog)).toEqual([]);
    expect(largerContext(model('llama-4', 1_000_000), catalog)).toEqual([]);
  });
});
