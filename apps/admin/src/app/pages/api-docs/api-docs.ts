import { ChangeDetectionStrategy, Component } from '@angular/core';
import { navItem } from '../../core/nav';
import { ComingSoon } from '../../shared/coming-soon/coming-soon';

/** API 文档: a placeholder until its page is built (see NAV_ITEMS for what it will do). */
@Component({
  selector: 'app-api-docs-page',
  imports: [ComingSoon],
  template: '<app-coming-soon [item]="item" />',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export default class ApiDocsPage {
  protected readonly item = navItem('api-docs');
}
