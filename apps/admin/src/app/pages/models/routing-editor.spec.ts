import { editorState, moveRow, routingChange, routingTags, weightError } from './routing-editor';
import { routing } from './routing-editor.testing';

describe('routing editor', () => {
  it('starts from the routes as routing uses them, untouched', () => {
    const state = editorState(routing({ forced: 'Together' }));
    expect(state.rows.map((r) => [r.provider, r.weight, r.providerPriority])).toEqual([
      ['DeepInfra', 1, 1],
      ['Together', 2, null],
      ['HuggingFace', 1, null],
    ]);
    expect(state).toMatchObject({ forced: 'Together', touched: false });
  });

  it('moves a row up and down, never past the ends', () => {
    const rows = editorState(routing()).rows;
    expect(moveRow(rows, 2, -1).map((r) => r.provider)).toEqual(['DeepInfra', 'HuggingFace', 'Together']);
    expect(moveRow(rows, 0, 1).map((r) => r.provider)).toEqual(['Together', 'DeepInfra', 'HuggingFace']);
    expect(moveRow(rows, 0, -1).map((r) => r.provider)).toEqual(['DeepInfra', 'Together', 'HuggingFace']);
    expect(moveRow(rows, 2, 5).map((r) => r.provider)).toEqual(['DeepInfra', 'Together', 'HuggingFace']);
  });

  it('takes whole weights from 0 to 100 only', () => {
    for (const ok of [0, 1, 100]) expect(weightError(ok)).toBeNull();
    for (const bad of [-1, 101, 1.5, NaN]) expect(weightError(bad)).toBe('权重是 0–100 的整数');
  });

  it('saves the order and weights only when they were touched; the forced provider always', () => {
    const state = editorState(routing());
    expect(routingChange({ ...state, forced: 'HuggingFace' })).toEqual({ forced: 'HuggingFace' });
    const moved = { ...state, rows: moveRow(state.rows, 1, -1), touched: true };
    expect(routingChange(moved)).toEqual({
      forced: null,
      routes: [
        { provider: 'Together', weight: 2 },
        { provider: 'DeepInfra', weight: 1 },
        { provider: 'HuggingFace', weight: 1 },
      ],
    });
  });

  it('tags a card only when the model has its own routing', () => {
    expect(routingTags(undefined)).toBeNull();
    expect(routingTags(routing())).toBeNull();
    expect(routingTags(routing({ forced: 'Together' }))).toEqual({ forced: 'Together', custom: false, title: '强制先用 Together' });
    expect(routingTags(routing({ custom: true }))?.title).toBe('自定义顺序与权重：DeepInfra 1、Together 2、HuggingFace 1');
  });
});
