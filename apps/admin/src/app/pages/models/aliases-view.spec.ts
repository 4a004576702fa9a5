import { MAX_ALIAS_ROWS, rowsOf, rowsToMap, sourceLabel } from './aliases-view';

describe('模型别名 rows', () => {
  it('turns rows into the map the gateway takes, trimming and skipping blank rows', () => {
    expect(
      rowsToMap([
        { pattern: ' claude-* ', model: ' qwen-2.5-coder-32b ' },
        { pattern: '', model: '' },
      ]),
    ).toEqual({
      aliases: { 'claude-*': 'qwen-2.5-coder-32b' },
      problems: [],
    });
    expect(rowsOf([{ pattern: 'gpt-5*', model: 'deepseek-v3' }])).toEqual([{ pattern: 'gpt-5*', model: 'deepseek-v3' }]);
  });

  it('says what is wrong, row by row', () => {
    const { aliases, problems } = rowsToMap([
      { pattern: '', model: 'deepseek-v3' },
      { pattern: 'has space', model: 'x' },
      { pattern: 'gpt-*', model: '' },
      { pattern: 'a', model: 'm' },
      { pattern: 'A', model: 'n' },
    ]);
    expect(aliases).toEqual({ a: 'm' });
    expect(problems).toEqual([
      '指向 deepseek-v3 的别名没有填写匹配规则',
      '“has space”：匹配规则不能含空格，最长 128 个字符',
      '“gpt-*”：请选择目标模型',
      '“A” 重复了（不区分大小写）',
    ]);
    const many = Array.from({ length: MAX_ALIAS_ROWS + 1 }, (_, i) => ({ pattern: `m${i}`, model: 'x' }));
    expect(rowsToMap(many).problems[0]).toBe(`最多 ${MAX_ALIAS_ROWS} 条别名，现在有 ${MAX_ALIAS_ROWS + 1} 条`);
  });

  it('names where the aliases in effect come from', () => {
    expect(sourceLabel({ source: 'console', defaults: [] })).toContain('管理台');
    expect(sourceLabel({ source: 'config', defaults: [{ pattern: 'a', model: 'b' }] })).toContain('MODEL_ALIASES');
    expect(sourceLabel({ source: 'config', defaults: [] })).toBe('尚未设置别名');
  });
});
