import { ChangeDetectionStrategy, Component } from '@angular/core';
import { navItem } from '../../core/nav';
import { ComingSoon } from '../../shared/coming-soon/coming-soon';

/** API 密钥: a placeholder until its page is built (see NAV_ITEMS for what it will do). */
@Component({
  selector: 'app-keys-page',
  imports: [ComingSoon],
  template: '<app-coming-soon [item]="item" />',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export default class KeysPage {
  protected readonly item = navItem('keys');
}
