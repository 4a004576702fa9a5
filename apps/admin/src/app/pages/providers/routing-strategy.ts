import { ChangeDetectionStrategy, Component, type OnInit, inject, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import type { RoutingSettings } from '#contracts';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatSelectModule, type MatSelectChange } from '@angular/material/select';
import { MatTooltipModule } from '@angular/material/tooltip';
import { ApiService } from '../../core/api.service';
import { Notice } from './notice';

type Strategy = RoutingSettings['strategy'];

/** Each strategy in the console's words: its name and what it does. */
export const STRATEGY_TEXT: Record<Strategy, { label: string; help: string }> = {
  random: {
    label: '按健康度加权随机',
    help: '每个请求随机决定先试哪个提供商，机会与“权重 × 健康分”成正比；失败的提供商健康分下降，被选中的机会随之变小',
  },
  priority: { label: '按优先级', help: '优先级数字小的先试（没设优先级的排在最后，按模型目录中的顺序）；失败时按顺序换下一个' },
  latency: { label: '按延迟', help: '最近延迟最低的先试；还没测到延迟的提供商先试一次' },
};

/**
 * 提供商管理's routing strategy: the one in force (and whether the console or ROUTING_STRATEGY
 * set it), changed here for every replica at once.
 */
@Component({
  selector: 'app-routing-strategy',
  imports: [MatFormFieldModule, MatSelectModule, MatTooltipModule],
  template: `
    @if (settings(); as s) {
      <div class="routing" data-testid="routing-strategy" [attr.data-strategy]="s.strategy">
        <mat-form-field appearance="outline" subscriptSizing="dynamic" class="select">
          <mat-label>路由策略</mat-label>
          <mat-select [value]="s.strategy" (selectionChange)="choose($event)" [disabled]="saving()" data-testid="routing-select">
            @for (o of options; track o) {
              <mat-option [value]="o">{{ text[o].label }}</mat-option>
            }
          </mat-select>
        </mat-form-field>
        <p class="help" data-testid="routing-help">
          生效中：<strong>{{ text[s.strategy].label }}</strong
          >（{{ s.source === 'console' ? '在管理台设置，所有副本共享' : '来自环境变量 ROUTING_STRATEGY' }}）。{{ text[s.strategy].help }}。
        </p>
      </div>
    }
  `,
  styles: `
    .routing {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 4px 16px;
    }
    .select {
      width: 220px;
    }
    .help {
      flex: 1 1 280px;
      margin: 0;
      color: var(--app-muted);
      font: var(--mat-sys-body-small);
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RoutingStrategy implements OnInit {
  private readonly api = inject(ApiService);
  private readonly notice = inject(Notice);
  protected readonly settings = signal<RoutingSettings | null>(null);
  protected readonly saving = signal(false);
  protected readonly options = Object.keys(STRATEGY_TEXT) as Strategy[];
  protected readonly text = STRATEGY_TEXT;

  async ngOnInit(): Promise<void> {
    try {
      this.settings.set(await firstValueFrom(this.api.routing()));
    } catch (err) {
      this.notice.error('读取路由策略失败', err);
    }
  }

  async choose(change: MatSelectChange): Promise<void> {
    const before = this.settings();
    this.saving.set(true);
    try {
      const s = await firstValueFrom(this.api.setRouting(change.value as Strategy));
      this.settings.set(s);
      this.notice.ok(`路由策略已改为：${STRATEGY_TEXT[s.strategy].label}`);
    } catch (err) {
      change.source.value = before?.strategy;
      this.notice.error('设置路由策略失败', err);
    } finally {
      this.saving.set(false);
    }
  }
}
