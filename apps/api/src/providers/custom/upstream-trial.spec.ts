import { MAX_LISTED_MODELS, listedIds } from './upstream-trial.ts';

describe('listedIds', () => {
  it('keeps the upstream’s order, dropping duplicates, blanks and overlong ids', () => {
    expect(listedIds(['b', ' a ', 'b', '', '   ', 'x'.repeat(201), 'x'.repeat(200)])).toEqual(['b', 'a', 'x'.repeat(200)]);
  });

  it('answers at most MAX_LISTED_MODELS ids', () => {
    const ids = Array.from({ length: MAX_LISTED_MODELS + 5 }, (_, i) => `m-${i}`);
    const sut = listedIds(ids);
    expect(sut).toHaveLength(MAX_LISTED_MODELS);
    expect(sut.at(-1)).toBe(`m-${MAX_LISTED_MODELS - 1}`);
  });
});
