import { MatSnackBar } from '@angular/material/snack-bar';
import type { ModelAliasList } from '#contracts';
import { createHarness, type Harness } from '../../../testing/harness';
import { model, models } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import { AliasesPanel } from './aliases-panel';
import { ModelsStore } from './models.store';

const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

const DEFAULTS: ModelAliasList = {
  aliases: [{ pattern: 'claude-*', model: 'qwen-2.5-coder-32b' }],
  defaults: [{ pattern: 'claude-*', model: 'qwen-2.5-coder-32b' }],
  source: 'config',
};

describe('模型别名 panel', () => {
  let h: Harness;
  let panel: AliasesPanel;
  const snacks: string[] = [];

  beforeEach(async () => {
    snacks.length = 0;
    h = createHarness([ModelsStore, { provide: MatSnackBar, useValue: { open: (m: string) => snacks.push(m) } }]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    panel = h.run(() => new AliasesPanel());
    panel.ngOnInit();
    h.http.expectOne('/api/aliases').flush(DEFAULTS);
    await flush();
  });
  afterEach(() => {
    h.http.verify();
    h.destroy();
  });

  it('shows the aliases in effect and where they come from, and suggests the catalog’s models', async () => {
    expect(panel.rows()).toEqual([{ pattern: 'claude-*', model: 'qwen-2.5-coder-32b' }]);
    expect(panel.source()).toContain('MODEL_ALIASES');
    expect(panel.dirty()).toBe(false);
    const store = h.get(ModelsStore);
    const loading = store.load();
    h.http.expectOne('/api/models').flush(models([model('deepseek-v3', [['DeepInfra']])]));
    h.http.expectOne('/api/providers').flush([]);
    h.http.expectOne('/api/routing/models').flush({ items: [] });
    await loading;
    expect(panel.modelIds()).toEqual(['deepseek-v3']);
  });

  it('saves the edited table as one map and shows what the gateway answered', async () => {
    panel.add();
    panel.edit(1, 'pattern', 'gpt-5*');
    panel.edit(1, 'model', 'deepseek-v3');
    panel.remove(0);
    expect(panel.dirty()).toBe(true);
    const saving = panel.save();
    const req = h.http.expectOne('/api/aliases');
    expect(req.request.method).toBe('PUT');
    expect(req.request.body).toEqual({ aliases: { 'gpt-5*': 'deepseek-v3' } });
    req.flush({ aliases: [{ pattern: 'gpt-5*', model: 'deepseek-v3' }], defaults: DEFAULTS.defaults, source: 'console' });
    await saving;
    expect(snacks).toEqual(['已保存模型别名']);
    expect(panel.source()).toContain('管理台');
    expect(panel.dirty()).toBe(false);
  });

  it('checks the rows before sending, and shows the gateway’s refusal as it said it', async () => {
    panel.edit(0, 'model', '');
    await panel.save();
    expect(panel.problems()).toEqual(['“claude-*”：请选择目标模型']);
    panel.edit(0, 'model', 'nope');
    const saving = panel.save();
    h.http.expectOne('/api/aliases').flush(
      {
        error: {
          message: 'Invalid aliases: alias "claude-*" points to the unknown model "nope"',
          type: 'invalid_request_error',
          param: 'aliases',
          code: 'invalid_alias',
        },
      },
      { status: 400, statusText: 'Bad Request' },
    );
    await saving;
    expect(panel.problems()).toEqual(['Invalid aliases: alias "claude-*" points to the unknown model "nope"']);
    expect(snacks).toEqual([]);
    expect(panel.busy()).toBe(false);
  });

  it('恢复默认 deletes the console’s map', async () => {
    const resetting = panel.reset();
    const req = h.http.expectOne('/api/aliases');
    expect(req.request.method).toBe('DELETE');
    req.flush(DEFAULTS);
    await resetting;
    expect(snacks).toEqual(['已恢复默认别名']);
    expect(panel.rows()).toEqual([{ pattern: 'claude-*', model: 'qwen-2.5-coder-32b' }]);
  });
});
