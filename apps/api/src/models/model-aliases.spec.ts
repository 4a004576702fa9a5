import { MAX_ALIASES, MAX_ALIAS_CHARS, compileAliases, globMatches, matchAlias, parseAliasMap } from './model-aliases.ts';
import { cpuMs } from '../../../../test/support/cpu-time.ts';

describe('model aliases', () => {
  it('globs: `*` matches any run, the rest literally, case-insensitively through matchAlias', () => {
    expect(globMatches('claude-*', 'claude-sonnet-4-5')).toBe(true);
    expect(globMatches('claude-*', 'claude-')).toBe(true);
    expect(globMatches('claude-*', 'xclaude-3')).toBe(false);
    expect(globMatches('*-mini', 'gpt-4o-mini')).toBe(true);
    expect(globMatches('gpt-*-mini', 'gpt-4o-mini')).toBe(true);
    expect(globMatches('gpt-*-mini', 'gpt-4o')).toBe(false);
    expect(globMatches('a.b', 'axb')).toBe(false);
    expect(globMatches('*', '')).toBe(true);
    expect(matchAlias(compileAliases({ 'Claude-*': 'm' }), 'CLAUDE-3')?.target).toBe('m');
  });

  it('a pattern full of stars against a long id stays cheap', () => {
    const pattern = `${'a*'.repeat(60)}b`;
    let matched: boolean | undefined;
    expect(cpuMs(() => (matched = globMatches(pattern, 'a'.repeat(500))))).toBeLessThan(200);
    expect(matched).toBe(false);
  });

  it('the most specific pattern wins: most literal characters, then fewer stars; an exact id beats a glob', () => {
    const compiled = compileAliases({ '*': 'any', 'gpt-*': 'gpt', 'gpt-5*': 'five', 'gpt-5-mini': 'exact', 'gpt-5-*i': 'glob-i' });
    expect(matchAlias(compiled, 'gpt-5-mini')?.pattern).toBe('gpt-5-mini');
    expect(matchAlias(compiled, 'gpt-5-hi')?.pattern).toBe('gpt-5-*i');
    expect(matchAlias(compiled, 'gpt-5')?.pattern).toBe('gpt-5*');
    expect(matchAlias(compiled, 'gpt-4o')?.pattern).toBe('gpt-*');
    expect(matchAlias(compiled, 'llama')?.pattern).toBe('*');
    expect(matchAlias(compileAliases({ 'gpt-5': 'x' }), 'gpt-4')).toBeUndefined();
  });

  it('parses a clean map, trimming and folding `**`', () => {
    expect(parseAliasMap({ ' claude-** ': ' qwen3-coder ' })).toEqual({ aliases: { 'claude-*': 'qwen3-coder' }, problems: [] });
  });

  it('names every bad entry, and refuses maps that are not objects or too big', () => {
    expect(parseAliasMap([]).problems).toEqual(['expected a JSON object {"pattern": "model id"}']);
    expect(parseAliasMap('x').problems).toHaveLength(1);
    const tooMany = Object.fromEntries(Array.from({ length: MAX_ALIASES + 1 }, (_, i) => [`m${i}`, 't']));
    expect(parseAliasMap(tooMany).problems).toEqual([`at most ${MAX_ALIASES} aliases, got ${MAX_ALIASES + 1}`]);
    const { aliases, problems } = parseAliasMap({
      'has space': 'x',
      ['p'.repeat(MAX_ALIAS_CHARS + 1)]: 'x',
      ok: 'fine',
      'no-target': '',
      'star-target': 'a*',
      number: 5,
      OK: 'dup',
    });
    expect(aliases).toEqual({ ok: 'fine' });
    expect(problems).toHaveLength(6);
    expect(problems[0]).toContain('"has space"');
    expect(problems.at(-1)).toContain('given twice');
  });
});
