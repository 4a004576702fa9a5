import { ChangeDetectionStrategy, Component } from '@angular/core';
import { navItem } from '../../core/nav';
import { ComingSoon } from '../../shared/coming-soon/coming-soon';

/** 在线对话测试: a placeholder until its page is built (see NAV_ITEMS for what it will do). */
@Component({
  selector: 'app-playground-page',
  imports: [ComingSoon],
  template: '<app-coming-soon [item]="item" />',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export default class PlaygroundPage {
  protected readonly item = navItem('playground');
}
