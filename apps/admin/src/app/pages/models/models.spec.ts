import { Clipboard } from '@angular/cdk/clipboard';
import { jest } from '@jest/globals';
import { MatDialog } from '@angular/material/dialog';
import { MatSnackBar } from '@angular/material/snack-bar';
import { ActivatedRoute, type ParamMap, convertToParamMap } from '@angular/router';
import { BehaviorSubject, of } from 'rxjs';
import type { AdminModelList, ModelRoutingList } from '#contracts';
import { createHarness, type Harness } from '../../../testing/harness';
import { model, provider } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import ModelsPage, { SEARCH_URL_DELAY_MS } from './models';
import { ModelsStore } from './models.store';
import type { PinDialogData } from './pin-dialog';
import type { RoutingDialogData } from './routing-dialog';
import { routing } from './routing-editor.testing';

const LIST: AdminModelList = {
  total: 3,
  categories: [
    { id: 'chat', label: '对话', count: 1 },
    { id: 'reasoning', label: '推理', count: 1 },
    { id: 'code', label: '代码', count: 0 },
    { id: 'vision', label: '视觉', count: 0 },
    { id: 'image', label: '图像生成', count: 1 },
    { id: 'audio', label: '音频', count: 0 },
  ],
  aliases: [],
  autoModels: [],
  models: [
    model('llama-3.3-70b', [['DeepInfra'], ['Together', false]]),
    model('deepseek-r1', [['DeepInfra']], 'reasoning'),
    model('flux', [['Together']], 'image'),
  ],
  discovery: { intervalMinutes: 0, providers: [] },
};

// setImmediate: the timers are fake here.
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ModelsPage', () => {
  let h: Harness;
  let page: ModelsPage;
  let params: BehaviorSubject<ParamMap>;
  let copyResult: boolean;
  let dialogAnswer: unknown;
  const copied: string[] = [];
  const snacks: string[] = [];
  const dialogs: Array<PinDialogData | RoutingDialogData> = [];

  function create(query: Record<string, string> = {}): void {
    params = new BehaviorSubject(convertToParamMap(query));
    h = createHarness([
      { provide: ActivatedRoute, useValue: { snapshot: { queryParamMap: params.value }, queryParamMap: params } },
      { provide: Clipboard, useValue: { copy: (text: string) => (copied.push(text), copyResult) } },
      { provide: MatSnackBar, useValue: { open: (message: string) => snacks.push(message) } },
      {
        provide: MatDialog,
        useValue: {
          open: (_: unknown, config: { data: PinDialogData | RoutingDialogData }) => {
            dialogs.push(config.data);
            return { afterClosed: () => of(dialogAnswer) };
          },
        },
      },
      // The component's own provider (a class created directly does not read its decorator).
      ModelsStore,
    ]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    page = h.run(() => new ModelsPage());
  }

  function load(list = LIST, routings: ModelRoutingList = { items: [] }): void {
    page.ngOnInit();
    h.http.expectOne('/api/models').flush(list);
    h.http.expectOne('/api/providers').flush([provider('DeepInfra'), provider('Together')]);
    h.http.expectOne('/api/routing/models').flush(routings);
  }

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    copyResult = true;
    dialogAnswer = true;
    copied.length = 0;
    snacks.length = 0;
    dialogs.length = 0;
  });
  afterEach(() => {
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
    jest.useRealTimers();
  });

  it('lists every model with its chips, and filters by category and search', () => {
    create();
    load();
    expect(page.chips().map((c) => `${c.label} ${c.count}`)).toEqual([
      '全部 3',
      '对话 1',
      '推理 1',
      '代码 0',
      '视觉 0',
      '图像生成 1',
      '音频 0',
      '嵌入 0',
      '语音识别 0',
    ]);
    expect(page.cards().map((c) => c.model.id)).toEqual(['llama-3.3-70b', 'deepseek-r1', 'flux']);
    expect(page.filtered()).toBe(false);

    page.setCategory('image');
    expect(page.cards().map((c) => c.model.id)).toEqual(['flux']);
    expect(page.filtered()).toBe(true);
    page.setQuery('llama');
    expect(page.cards()).toEqual([]);
    page.clearFilters();
    expect(page.cards()).toHaveLength(3);
    // The providers' status is taken into account: Together's route of llama is missing.
    expect(page.cards()[0]!.routes.map((r) => r.usable)).toEqual([true, false]);
  });

  it('starts from the URL and writes the filters back into it (the search after a pause)', () => {
    create({ category: 'reasoning', q: 'deep' });
    expect(page.category()).toBe('reasoning');
    expect(page.query()).toBe('deep');
    load();
    expect(page.cards().map((c) => c.model.id)).toEqual(['deepseek-r1']);

    page.setCategory('chat');
    expect(h.router.navigations.at(-1)).toEqual({
      commands: [],
      extras: expect.objectContaining({ queryParams: { category: 'chat', q: 'deep' }, queryParamsHandling: 'merge', replaceUrl: true }),
    });
    const before = h.router.navigations.length;
    page.setQuery('l');
    page.setQuery('ll');
    page.setQuery('llama ');
    expect(h.router.navigations).toHaveLength(before);
    jest.advanceTimersByTime(SEARCH_URL_DELAY_MS);
    expect(h.router.navigations).toHaveLength(before + 1);
    expect((h.router.navigations.at(-1)!.extras as { queryParams: unknown }).queryParams).toEqual({ category: 'chat', q: 'llama' });

    // 全部 and an empty search leave the URL bare.
    page.clearFilters();
    expect((h.router.navigations.at(-1)!.extras as { queryParams: unknown }).queryParams).toEqual({ category: null, q: null });
  });

  it('follows the URL when it changes from outside (the menu entry, back), not its own writes', () => {
    create({ category: 'image' });
    load();
    page.setQuery('flux');
    jest.advanceTimersByTime(SEARCH_URL_DELAY_MS);
    // The router answers its own write: nothing changes.
    params.next(convertToParamMap({ category: 'image', q: 'flux' }));
    expect([page.category(), page.query()]).toEqual(['image', 'flux']);
    // The menu entry: /models with no query.
    params.next(convertToParamMap({}));
    expect([page.category(), page.query()]).toEqual(['all', '']);
    params.next(convertToParamMap({ category: 'bogus' }));
    expect(page.category()).toBe('all');
  });

  it('keeps the picked chip when the selected one is clicked again', () => {
    create();
    load();
    page.setCategory('image');
    const source = { value: undefined as unknown };
    page.onChipChange({ value: undefined, source: source as never });
    expect(page.category()).toBe('image');
    expect(source.value).toBe('image');
    page.onChipChange({ value: 'code', source: source as never });
    expect(page.category()).toBe('code');
  });

  it('copies a model id and says so for a moment', () => {
    create();
    page.copyId('gpt-4o');
    expect(copied).toEqual(['gpt-4o']);
    expect(page.copied()).toBe('gpt-4o');
    jest.advanceTimersByTime(2000);
    expect(page.copied()).toBeNull();
    copyResult = false;
    page.copyId('flux');
    expect(page.copied()).toBeNull();
    expect(snacks.at(-1)).toContain('复制失败');
  });

  it('refreshes discovery and reports the result', async () => {
    create();
    load();
    const done = page.refreshDiscovery();
    h.http.expectOne('/api/discovery/refresh').flush([
      {
        provider: 'DeepInfra',
        fetchedAt: 1,
        ok: true,
        error: null,
        modelCount: 4,
        listedAt: 1,
        skipped: null,
        refreshing: false,
        attempted: true,
        routes: { confirmed: 2, missing: 0, unknown: 0 },
        changed: [],
      },
    ]);
    await flush();
    h.http.expectOne('/api/models').flush(LIST);
    h.http.expectOne('/api/providers').flush([]);
    h.http.expectOne('/api/routing/models').flush({ items: [] });
    await done;
    expect(snacks).toEqual(['已读取 1 个提供商的模型列表：已发现 2 条路由，列表中没有 0 条。']);
  });

  it('says why a refresh failed, except for an expired session (the interceptor handles that)', async () => {
    create();
    load();
    let done = page.refreshDiscovery();
    h.http
      .expectOne('/api/discovery/refresh')
      .flush({ error: { message: 'boom', type: 'server_error', param: null, code: null } }, { status: 500, statusText: 'Error' });
    await done;
    expect(snacks).toEqual(['刷新模型发现失败：服务器出错（HTTP 500），请稍后重试。（boom）']);

    done = page.refreshDiscovery();
    h.http
      .expectOne('/api/discovery/refresh')
      .flush({ error: { message: 'expired', type: 'authentication_error', param: null, code: null } }, { status: 401, statusText: 'Unauthorized' });
    await done;
    expect(snacks).toHaveLength(1);
  });

  it('pins a route after the dialog, and does nothing when it is cancelled', async () => {
    create();
    load();
    const card = page.cards()[0]!;
    const together = card.routes[1]!;
    expect(together.canPin).toBe(true);

    dialogAnswer = false;
    await page.togglePin(card, together);
    expect(dialogs.at(-1)).toEqual({ action: 'pin', model: 'llama-3.3-70b', provider: 'Together', upstream: 'llama-3.3-70b', state: 'missing' });
    h.http.expectNone((r) => r.url.includes('/pin'));

    dialogAnswer = true;
    const done = page.togglePin(card, together);
    await flush();
    const req = h.http.expectOne('/api/models/llama-3.3-70b/routes/Together/pin');
    expect(req.request.method).toBe('POST');
    req.flush({ model: 'llama-3.3-70b', routes: [card.model.routes[0], { ...card.model.routes[1], pinned: true, pinnedBy: 'operator', routable: true }] });
    await done;
    expect(snacks.at(-1)).toBe('已固定 llama-3.3-70b 在 Together 上的路由。');
    const after = page.cards()[0]!.routes[1]!;
    expect(after).toMatchObject({ pinLabel: '手动固定', canUnpin: true, usable: true });

    const unpin = page.togglePin(page.cards()[0]!, after);
    await flush();
    expect((dialogs.at(-1) as PinDialogData).action).toBe('unpin');
    h.http
      .expectOne((r) => r.method === 'DELETE' && r.url === '/api/models/llama-3.3-70b/routes/Together/pin')
      .flush({ error: { message: 'gone', type: 'not_found_error', param: null, code: 'model_not_found' } }, { status: 404, statusText: 'Not Found' });
    await unpin;
    expect(snacks.at(-1)).toBe('取消固定失败：请求失败（HTTP 404）。（gone）');
  });

  it('does not offer to pin image routes or catalog pins', async () => {
    create();
    load();
    const flux = page.cards()[2]!;
    expect(flux.routes[0]!.judged).toBe(false);
    await page.togglePin(flux, flux.routes[0]!);
    expect(dialogs).toEqual([]);
  });

  it('tags a model with its own routing, and marks the forced route', () => {
    create();
    load(LIST, { items: [routing({ forced: 'Together', custom: true })] });
    const card = page.cards()[0]!;
    expect(card.routing).toMatchObject({ forced: 'Together', custom: true });
    expect(card.routes.map((r) => [r.provider, r.forced])).toEqual([
      ['DeepInfra', false],
      ['Together', true],
    ]);
    expect(page.cards()[1]!.routing).toBeNull();
  });

  it('路由设置 reads the model’s routing fresh, saves what the dialog answers and tags the card', async () => {
    create();
    load();
    const card = page.cards()[0]!;
    dialogAnswer = { kind: 'save', change: { forced: 'Together' } };
    const done = page.editRouting(card);
    await flush();
    h.http.expectOne('/api/routing/models/llama-3.3-70b').flush(routing());
    await flush();
    expect(dialogs.at(-1)).toEqual({ routing: routing() });
    const save = h.http.expectOne('/api/routing/models/llama-3.3-70b');
    expect(save.request.method).toBe('PATCH');
    expect(save.request.body).toEqual({ forced: 'Together' });
    save.flush(routing({ forced: 'Together' }));
    await done;
    expect(snacks.at(-1)).toBe('已保存 llama-3.3-70b 的路由设置：强制先用 Together。');
    expect(page.cards()[0]!.routing?.forced).toBe('Together');

    // 恢复默认: DELETE, and the tag goes.
    dialogAnswer = { kind: 'reset' };
    const reset = page.editRouting(page.cards()[0]!);
    await flush();
    h.http.expectOne('/api/routing/models/llama-3.3-70b').flush(routing({ forced: 'Together' }));
    await flush();
    const del = h.http.expectOne((r) => r.method === 'DELETE' && r.url === '/api/routing/models/llama-3.3-70b');
    del.flush(routing());
    await reset;
    expect(snacks.at(-1)).toBe('llama-3.3-70b 已恢复为按提供商的设置路由。');
    expect(page.cards()[0]!.routing).toBeNull();
  });

  it('路由设置 says why it could not save, and cancelling saves nothing', async () => {
    create();
    load();
    dialogAnswer = undefined;
    let done = page.editRouting(page.cards()[0]!);
    await flush();
    h.http.expectOne('/api/routing/models/llama-3.3-70b').flush(routing());
    await done;
    h.http.expectNone((r) => r.method !== 'GET');

    dialogAnswer = { kind: 'save', change: { forced: 'Together', routes: [{ provider: 'Together', weight: 1 }] } };
    done = page.editRouting(page.cards()[0]!);
    await flush();
    h.http.expectOne('/api/routing/models/llama-3.3-70b').flush(routing());
    await flush();
    h.http
      .expectOne((r) => r.method === 'PATCH')
      .flush(
        {
          error: { message: 'Provider `Together` does not serve the model.', type: 'invalid_request_error', param: 'forced', code: 'provider_model_mismatch' },
        },
        { status: 400, statusText: 'Bad Request' },
      );
    await done;
    expect(snacks.at(-1)).toMatch(/^保存路由设置失败：/);
    expect(page.routingBusy()).toBeNull();
  });
});
