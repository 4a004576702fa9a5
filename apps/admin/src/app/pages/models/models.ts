import { Clipboard } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, DestroyRef, type OnInit, computed, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { type MatChipListboxChange, MatChipsModule } from '@angular/material/chips';
import { MatDialog } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatSnackBar } from '@angular/material/snack-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import { ActivatedRoute, type ParamMap, Router } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import { type ApiFailure, describeApiError } from '../../core/api-error';
import { ApiService } from '../../core/api.service';
import { formatClock, formatRelative } from '../../core/format';
import { PageStates } from '../../shared/page-states/page-states';
import { StateView } from '../../shared/state/state';
import {
  type CategoryFilter,
  type ModelCard,
  type RouteRow,
  categoryChips,
  filterModels,
  modelCard,
  parseCategory,
  providerIndex,
  summarizeRefresh,
} from './models-view';
import { AliasesPanel } from './aliases-panel';
import { AutoModelsPanel } from './auto-models-panel';
import { DiscoveryPanel } from './discovery-panel';
import { ModelsStore } from './models.store';
import { PinDialog, type PinDialogData } from './pin-dialog';
import { RoutingDialog, type RoutingDialogData, type RoutingDialogResult } from './routing-dialog';
import { FORCE_HELP } from './routing-editor';

/** How long the search box waits before writing the query into the URL. */
export const SEARCH_URL_DELAY_MS = 250;

/** 模型浏览: the catalog by category, each model's routes and their live discovery state. */
@Component({
  selector: 'app-models-page',
  imports: [
    MatButtonModule,
    MatChipsModule,
    MatFormFieldModule,
    MatIconModule,
    MatInputModule,
    MatTooltipModule,
    DiscoveryPanel,
    AliasesPanel,
    AutoModelsPanel,
    StateView,
    PageStates,
  ],
  providers: [ModelsStore],
  templateUrl: './models.html',
  styleUrl: './models.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export default class ModelsPage implements OnInit {
  protected readonly store = inject(ModelsStore);
  private readonly route = inject(ActivatedRoute);
  private readonly router = inject(Router);
  private readonly clipboard = inject(Clipboard);
  private readonly snackBar = inject(MatSnackBar);
  private readonly dialog = inject(MatDialog);
  private readonly destroyRef = inject(DestroyRef);
  private readonly api = inject(ApiService);
  /** The discovered model being promoted now. */
  readonly promoting = signal<string | null>(null);

  /** The filters, mirrored in the URL (`?category=image&q=flux`). */
  readonly category = signal<CategoryFilter>('all');
  readonly query = signal('');
  /** The model id copied last, for a moment. */
  readonly copied = signal<string | null>(null);

  readonly chips = computed(() => {
    const list = this.store.list();
    return list ? categoryChips(list) : [];
  });
  private readonly providerMap = computed(() => providerIndex(this.store.providers()));
  readonly cards = computed<ModelCard[]>(() => {
    const list = this.store.list();
    if (!list) return [];
    const providers = this.providerMap();
    const routings = this.store.routings();
    return filterModels(list.models, this.category(), this.query()).map((m) => modelCard(m, list, providers, routings.get(m.id)));
  });
  readonly filtered = computed(() => this.category() !== 'all' || this.query().trim() !== '');

  protected readonly fmt = { clock: formatClock, relative: formatRelative };
  protected readonly forceHelp = FORCE_HELP;
  /** The model whose 路由设置 is being read or saved. */
  readonly routingBusy = signal<string | null>(null);

  /** The query string this page wrote last: its own navigations are not read back. */
  private written: string | null = null;
  private urlTimer: ReturnType<typeof setTimeout> | undefined;
  private copiedTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    this.adopt(this.route.snapshot.queryParamMap);
    this.destroyRef.onDestroy(() => {
      clearTimeout(this.urlTimer);
      clearTimeout(this.copiedTimer);
    });
  }

  ngOnInit(): void {
    // Back / forward, or the menu entry (no query): follow the URL.
    this.route.queryParamMap.pipe(takeUntilDestroyed(this.destroyRef)).subscribe((params) => {
      if (serialize(parseCategory(params.get('category')), params.get('q') ?? '') !== this.written) this.adopt(params);
    });
    void this.store.load();
  }

  setCategory(category: CategoryFilter): void {
    if (category === this.category()) return;
    this.category.set(category);
    this.writeUrl(0);
  }

  /** A chip click. Clicking the selected chip deselects it in the listbox: select it again. */
  onChipChange(event: Pick<MatChipListboxChange, 'value' | 'source'>): void {
    const value = event.value as CategoryFilter | null | undefined;
    if (value) this.setCategory(value);
    else event.source.value = this.category();
  }

  setQuery(query: string): void {
    this.query.set(query);
    this.writeUrl(SEARCH_URL_DELAY_MS);
  }

  clearFilters(): void {
    this.category.set('all');
    this.query.set('');
    this.writeUrl(0);
  }

  copyId(id: string): void {
    if (!this.clipboard.copy(id)) {
      this.snackBar.open('复制失败，请手动选择模型 ID 复制。', '关闭', { duration: 4000 });
      return;
    }
    this.copied.set(id);
    clearTimeout(this.copiedTimer);
    this.copiedTimer = setTimeout(() => this.copied.set(null), 2000);
  }

  async refreshDiscovery(): Promise<void> {
    const outcome = await this.store.refreshDiscovery();
    if (!outcome) return;
    if (!outcome.ok) return this.fail('刷新模型发现失败', outcome.failure);
    this.snackBar.open(summarizeRefresh(outcome.value).message, '好的', { duration: 6000 });
  }

  async togglePin(card: ModelCard, route: RouteRow): Promise<void> {
    const action = route.canUnpin ? 'unpin' : route.canPin ? 'pin' : null;
    if (!action) return;
    const data: PinDialogData = { action, model: card.model.id, provider: route.provider, upstream: route.upstream, state: route.state };
    const confirmed = await firstValueFrom(
      this.dialog.open<PinDialog, PinDialogData, boolean>(PinDialog, { data, width: '480px', maxWidth: 'calc(100vw - 32px)' }).afterClosed(),
    );
    if (!confirmed) return;
    const outcome = action === 'pin' ? await this.store.pin(card.model.id, route.provider) : await this.store.unpin(card.model.id, route.provider);
    if (!outcome.ok) return this.fail(action === 'pin' ? '固定路由失败' : '取消固定失败', outcome.failure);
    this.snackBar.open(
      action === 'pin' ? `已固定 ${card.model.id} 在 ${route.provider} 上的路由。` : `已取消固定 ${card.model.id} 在 ${route.provider} 上的路由。`,
      '好的',
      { duration: 4000 },
    );
  }

  /** 转为正式: the discovered model becomes a curated catalog entry, kept after a restart. */
  async promote(card: ModelCard): Promise<void> {
    const id = card.model.id;
    this.promoting.set(id);
    try {
      await firstValueFrom(this.api.promoteModel(id));
      this.snackBar.open(`${id} 已转为正式模型。`, '好的', { duration: 4000 });
      await this.store.load();
    } catch (err) {
      this.fail('转为正式失败', describeApiError(err));
    } finally {
      this.promoting.set(null);
    }
  }

  /** 路由设置: reads the model's routing fresh, edits it in the dialog, saves or resets it. */
  async editRouting(card: ModelCard): Promise<void> {
    const id = card.model.id;
    if (this.routingBusy()) return;
    this.routingBusy.set(id);
    try {
      const loaded = await this.store.modelRouting(id);
      if (!loaded.ok) return this.fail('读取路由设置失败', loaded.failure);
      const result = await firstValueFrom(
        this.dialog
          .open<RoutingDialog, RoutingDialogData, RoutingDialogResult>(RoutingDialog, {
            data: { routing: loaded.value },
            width: '640px',
            maxWidth: 'calc(100vw - 32px)',
            autoFocus: 'dialog',
          })
          .afterClosed(),
      );
      if (!result) return;
      const outcome = await this.store.saveRouting(id, result.kind === 'save' ? result.change : null);
      if (!outcome.ok) return this.fail('保存路由设置失败', outcome.failure);
      const saved = outcome.value;
      const message =
        result.kind === 'reset'
          ? `${id} 已恢复为按提供商的设置路由。`
          : saved.forced
            ? `已保存 ${id} 的路由设置：强制先用 ${saved.forced}。`
            : `已保存 ${id} 的路由设置。`;
      this.snackBar.open(message, '好的', { duration: 4000 });
    } finally {
      this.routingBusy.set(null);
    }
  }

  isPinning(card: ModelCard, route: RouteRow): boolean {
    return this.store.isPinning(card.model.id, route.provider);
  }

  private fail(what: string, failure: ApiFailure): void {
    // 401/403: the interceptor is taking the admin to 登录.
    if (failure.kind === 'unauthorized') return;
    const detail = failure.detail ? `（${failure.detail}）` : '';
    this.snackBar.open(`${what}：${failure.message}${detail}`, '关闭', { duration: 8000 });
  }

  private adopt(params: ParamMap): void {
    this.category.set(parseCategory(params.get('category')));
    this.query.set(params.get('q') ?? '');
    this.written = serialize(this.category(), this.query());
  }

  private writeUrl(delayMs: number): void {
    clearTimeout(this.urlTimer);
    const write = () => {
      const category = this.category();
      const q = this.query().trim();
      this.written = serialize(category, q);
      void this.router.navigate([], {
        relativeTo: this.route,
        queryParams: { category: category === 'all' ? null : category, q: q || null },
        queryParamsHandling: 'merge',
        replaceUrl: true,
      });
    };
    if (delayMs <= 0) write();
    else this.urlTimer = setTimeout(write, delayMs);
  }
}

function serialize(category: CategoryFilter, q: string): string {
  return `${category}\n${q.trim()}`;
}
