import { ChangeDetectionStrategy, Component } from '@angular/core';
import { navItem } from '../../core/nav';
import { ComingSoon } from '../../shared/coming-soon/coming-soon';

/** 请求日志: a placeholder until its page is built (see NAV_ITEMS for what it will do). */
@Component({
  selector: 'app-logs-page',
  imports: [ComingSoon],
  template: '<app-coming-soon [item]="item" />',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export default class LogsPage {
  protected readonly item = navItem('logs');
}
