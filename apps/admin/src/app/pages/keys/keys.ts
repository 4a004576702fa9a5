import { BreakpointObserver } from '@angular/cdk/layout';
import { ChangeDetectionStrategy, Component, DOCUMENT, type OnInit, inject } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatDialog, type MatDialogConfig } from '@angular/material/dialog';
import { MatIconModule } from '@angular/material/icon';
import { MatSnackBar } from '@angular/material/snack-bar';
import { MatTableModule } from '@angular/material/table';
import { MatTooltipModule } from '@angular/material/tooltip';
import { map } from 'rxjs';
import type { ClientKey, CreatedClientKey } from '#contracts';
import { describeApiError } from '../../core/api-error';
import { formatCount, formatRelative } from '../../core/format';
import { LiveStatus } from '../../shared/live-status/live-status';
import { RefreshButton } from '../../shared/live-status/refresh-button';
import { PageStates } from '../../shared/page-states/page-states';
import { StateView } from '../../shared/state/state';
import { confirm } from '../../shared/confirm-dialog/confirm-dialog';
import { KeyFormDialog, type KeyFormDialogData } from './key-form-dialog';
import { KeySecretDialog, type KeySecretDialogData } from './key-secret-dialog';
import { KeyUsageButton } from './key-usage';
import { formatDateTime, formatRpm, limitLines, quotaLines } from './keys-view';
import { KEYS_POLL_MS, KeysStore } from './keys.store';

/** Below this width the key table becomes a list of cards (at 1024 px, next to the menu, the table would push its status and actions off-screen). */
export const KEYS_CARDS_QUERY = '(max-width: 1279.98px)';

const DIALOG: MatDialogConfig = { width: '520px', maxWidth: 'calc(100vw - 24px)', autoFocus: 'first-tabbable' };

/** API 密钥: client keys (客户端密钥) for /v1 — create (secret shown once), limits and quotas, rename, revoke, live usage. */
@Component({
  selector: 'app-keys-page',
  imports: [MatButtonModule, MatIconModule, MatTableModule, MatTooltipModule, StateView, PageStates, LiveStatus, RefreshButton, KeyUsageButton],
  providers: [KeysStore],
  templateUrl: './keys.html',
  styleUrl: './keys.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export default class KeysPage implements OnInit {
  protected readonly store = inject(KeysStore);
  private readonly dialog = inject(MatDialog);
  private readonly snackBar = inject(MatSnackBar);
  private readonly origin = inject(DOCUMENT).location.origin;
  protected readonly pollSeconds = Math.round(inject(KEYS_POLL_MS) / 1000);

  protected readonly cards = toSignal(
    inject(BreakpointObserver)
      .observe(KEYS_CARDS_QUERY)
      .pipe(map((s) => s.matches)),
    { initialValue: false },
  );
  protected readonly columns = ['name', 'key', 'created', 'lastUsed', 'requests', 'tokens', 'rpm', 'status', 'actions'];
  protected readonly trackKey = (_: number, k: ClientKey) => k.id;
  protected readonly fmt = { count: formatCount, relative: formatRelative, dateTime: formatDateTime, rpm: formatRpm, quotas: quotaLines, limits: limitLines };

  ngOnInit(): void {
    this.store.start();
  }

  /** 创建密钥 → the secret, once. */
  create(): void {
    const data: KeyFormDialogData = { key: null, first: this.store.counts().total === 0, submit: (body) => this.store.create(body) };
    this.dialog
      .open<KeyFormDialog, KeyFormDialogData, CreatedClientKey>(KeyFormDialog, { ...DIALOG, data })
      .afterClosed()
      .subscribe((created) => {
        if (!created) return;
        this.dialog.open<KeySecretDialog, KeySecretDialogData>(KeySecretDialog, {
          ...DIALOG,
          width: '600px',
          disableClose: true,
          autoFocus: 'dialog',
          data: { key: created, origin: this.origin },
        });
      });
  }

  edit(key: ClientKey): void {
    const data: KeyFormDialogData = { key, first: false, submit: (body) => this.store.update(key.id, body) };
    this.dialog
      .open<KeyFormDialog, KeyFormDialogData, ClientKey>(KeyFormDialog, { ...DIALOG, data })
      .afterClosed()
      .subscribe((saved) => {
        if (saved) this.notify(`已保存「${saved.name}」`);
      });
  }

  revoke(key: ClientKey): void {
    confirm(this.dialog, {
      title: `吊销密钥「${key.name}」？`,
      message: [
        `使用这个密钥（${key.maskedKey}）的客户端会立即收到 401，无法再调用 /v1。吊销后不能恢复，只能创建新密钥。`,
        '记录会保留，请求日志和统计中仍会显示它的名字与用量。',
      ],
      confirm: '吊销',
      danger: true,
    }).subscribe((confirmed) => {
      if (!confirmed) return;
      this.store.revoke(key.id).subscribe({
        next: (revoked) => this.notify(`已吊销「${revoked.name}」`),
        error: (err: unknown) => this.notify(`吊销失败：${describeApiError(err).message}`),
      });
    });
  }

  private notify(message: string): void {
    this.snackBar.open(message, '关闭', { duration: 4000 });
  }
}
