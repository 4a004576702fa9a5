import { ChangeDetectionStrategy, Component } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { RouterLink } from '@angular/router';
import { StateView } from '../../shared/state/state';

@Component({
  selector: 'app-not-found-page',
  imports: [StateView, MatButtonModule, RouterLink],
  template: `
    <app-state kind="empty" icon="explore_off" heading="页面不存在" message="这个地址没有对应的页面，可能是链接有误或页面已移动。">
      <a mat-flat-button routerLink="/dashboard">返回控制台</a>
    </app-state>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export default class NotFoundPage {}
