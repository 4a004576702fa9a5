import { ChangeDetectionStrategy, Component } from '@angular/core';
import { navItem } from '../../core/nav';
import { ComingSoon } from '../../shared/coming-soon/coming-soon';

/** 提供商管理: a placeholder until its page is built (see NAV_ITEMS for what it will do). */
@Component({
  selector: 'app-providers-page',
  imports: [ComingSoon],
  template: '<app-coming-soon [item]="item" />',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export default class ProvidersPage {
  protected readonly item = navItem('providers');
}
