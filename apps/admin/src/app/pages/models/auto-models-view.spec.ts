import { autoRowsOf, autoRowsToModels, autoSourceLabel, type AutoModelRow } from './auto-models-view';

const row = (over: Partial<AutoModelRow>): AutoModelRow => ({ id: 'auto-x', kind: 'chat', models: '', others: false, vision: false, description: '', ...over });

describe('auto models view', () => {
  it('turns the preference text into ids (commas, spaces or full-width commas) and back', () => {
    const { models, problems } = autoRowsToModels([row({ models: 'a, b  c，d', description: ' 说明 ' })]);
    expect(problems).toEqual([]);
    expect(models).toEqual([{ id: 'auto-x', kind: 'chat', models: ['a', 'b', 'c', 'd'], others: false, vision: false, description: '说明' }]);
    expect(autoRowsOf(models)).toEqual([row({ models: 'a, b, c, d', description: '说明' })]);
  });

  it('names what is wrong in Chinese and skips blank rows', () => {
    const { models, problems } = autoRowsToModels([
      row({ id: '', models: '' }),
      row({ id: '', models: 'a' }),
      row({ id: 'has space', models: 'a' }),
      row({ id: 'auto-x', models: 'a' }),
      row({ id: 'AUTO-X', models: 'b' }),
      row({ id: 'auto-y' }),
      row({ id: 'auto-z', others: true }),
    ]);
    expect(problems).toEqual([
      '偏好列表为“a”的虚拟模型没有填写 id',
      '“has space”：id 不能含空格或 *，最长 64 个字符',
      '“AUTO-X” 重复了（不区分大小写）',
      '“auto-y”：至少填写一个模型，或勾选“再用其他模型”',
    ]);
    expect(models.map((m) => m.id)).toEqual(['auto-x', 'auto-z']);
  });

  it('says where the list comes from', () => {
    expect(autoSourceLabel({ source: 'console' })).toMatch(/管理台保存/);
    expect(autoSourceLabel({ source: 'config' })).toMatch(/内置/);
  });
});
