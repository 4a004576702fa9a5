import { BreakpointObserver } from '@angular/cdk/layout';
import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  type ElementRef,
  type OnInit,
  afterRenderEffect,
  computed,
  inject,
  signal,
  viewChild,
} from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatExpansionModule } from '@angular/material/expansion';
import { MatIconModule } from '@angular/material/icon';
import { MatSnackBar } from '@angular/material/snack-bar';
import { MatTabsModule } from '@angular/material/tabs';
import { MatTooltipModule } from '@angular/material/tooltip';
import { ActivatedRoute, RouterLink } from '@angular/router';
import { map } from 'rxjs';
import { StateView } from '../../shared/state/state';
import { PlaygroundAnswer } from './playground-answer';
import { PlaygroundEmbeddings } from './playground-embeddings';
import { PlaygroundSettingsPanel } from './playground-settings';
import { PlaygroundStore } from './playground.store';
import { PlaygroundTranscription } from './playground-transcription';
import { PlaygroundLimitsLoader } from './tab-support';
import { type PlaygroundTab, tabOf } from './tab-view';

/** Below this width the settings fold into a panel above the conversation. */
export const PLAYGROUND_NARROW_QUERY = '(max-width: 1099.98px)';

/** Prompts offered on an empty conversation. */
export const EXAMPLES = {
  chat: ['用三句话介绍一下你自己', '用 Python 写一个快速排序，并解释它的时间复杂度', '把“故障转移”解释给一个五岁的孩子听'],
  image: ['雪地里奔跑的柴犬，水彩风格', '黄昏时分的海边灯塔，电影感光影', '赛博朋克风格的上海外滩夜景'],
} as const;

/** The composer grows with its text up to this height (then scrolls). */
const COMPOSER_MAX_PX = 200;

/** How long 清空对话 waits for its confirming second click. */
export const CLEAR_CONFIRM_MS = 4000;

/** The playground's tabs, as the address names them (`?tab=`; 对话与图像 has none). */
export const TAB_LINKS: ReadonlyArray<{ tab: PlaygroundTab; label: string; icon: string }> = [
  { tab: 'chat', label: '对话与图像', icon: 'forum' },
  { tab: 'embeddings', label: '嵌入', icon: 'scatter_plot' },
  { tab: 'transcription', label: '语音识别', icon: 'record_voice_over' },
];

/**
 * 在线对话测试: pick a model (and maybe a provider), chat with streaming answers or generate images;
 * the 嵌入 and 语音识别 tabs test embedding and speech-to-text models on the same catalog.
 */
@Component({
  selector: 'app-playground-page',
  imports: [
    MatButtonModule,
    MatExpansionModule,
    MatIconModule,
    MatTabsModule,
    MatTooltipModule,
    RouterLink,
    StateView,
    PlaygroundAnswer,
    PlaygroundSettingsPanel,
    PlaygroundEmbeddings,
    PlaygroundTranscription,
  ],
  providers: [PlaygroundStore, PlaygroundLimitsLoader],
  templateUrl: './playground.html',
  styleUrl: './playground.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export default class PlaygroundPage implements OnInit {
  protected readonly store = inject(PlaygroundStore);
  private readonly snackBar = inject(MatSnackBar);
  protected readonly examples = EXAMPLES;
  protected readonly tabLinks = TAB_LINKS;
  protected readonly tab = toSignal(inject(ActivatedRoute).queryParamMap.pipe(map((p) => tabOf(p.get('tab')))), { initialValue: 'chat' as PlaygroundTab });

  protected readonly narrow = toSignal(
    inject(BreakpointObserver)
      .observe(PLAYGROUND_NARROW_QUERY)
      .pipe(map((s) => s.matches)),
    { initialValue: false },
  );

  protected readonly draft = signal('');
  protected readonly canSend = computed(() => this.draft().trim().length > 0 && this.store.model() !== null && !this.store.busy());
  protected readonly confirmingClear = signal(false);
  protected readonly settingsSummary = computed(() => {
    const s = this.store.settings();
    const parts = [s.model ?? '未选择模型', this.store.pinned()?.name ?? '自动'];
    if (this.store.mode() === 'chat' && s.temperature !== null) parts.push(`温度 ${s.temperature.toFixed(1)}`);
    if (this.store.mode() === 'image') parts.push(s.imageSize.replace('x', '×'), `${s.imageCount} 张`);
    return parts.join(' · ');
  });

  private readonly scroller = viewChild<ElementRef<HTMLElement>>('scroller');
  private readonly thread = viewChild<ElementRef<HTMLElement>>('thread');
  private readonly composer = viewChild<ElementRef<HTMLTextAreaElement>>('composer');
  /** Follow the conversation's end while the admin has not scrolled up. */
  private stickToBottom = true;
  private lastScrollTop = 0;
  private clearTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    // Sizes change without a signal changing too: an image loads (follow the end), the layout
    // switches width (fit the composer again).
    let composerWidth = -1;
    const resize =
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver((entries) => {
            for (const entry of entries) {
              if (entry.target === this.thread()?.nativeElement) this.followEnd();
              else if (entry.contentRect.width !== composerWidth) {
                // Only width matters (fitting changes the height); resized in the next frame, not inside this callback.
                composerWidth = entry.contentRect.width;
                requestAnimationFrame(() => this.fitComposer());
              }
            }
          });
    const observed = new Set<HTMLElement>();
    const observe = (el: HTMLElement | undefined) => {
      if (!resize || !el || observed.has(el)) return;
      observed.add(el);
      resize.observe(el);
    };
    inject(DestroyRef).onDestroy(() => {
      clearTimeout(this.clearTimer);
      resize?.disconnect();
    });
    afterRenderEffect(() => {
      this.store.turns();
      observe(this.thread()?.nativeElement);
      this.followEnd();
    });
    // The composer grows with its text (up to a limit), and shrinks back once it is sent.
    afterRenderEffect(() => {
      this.draft();
      observe(this.composer()?.nativeElement);
      this.fitComposer();
    });
  }

  private fitComposer(): void {
    const el = this.composer()?.nativeElement;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight + 2, COMPOSER_MAX_PX)}px`;
  }

  private followEnd(): void {
    const el = this.scroller()?.nativeElement;
    if (el && this.stickToBottom) el.scrollTop = el.scrollHeight;
  }

  ngOnInit(): void {
    this.store.load();
  }

  /**
   * Reaching the end sticks to it; only scrolling up unsticks. (Content that grows between a
   * programmatic scroll and its scroll event must not count as the admin scrolling away.)
   */
  protected onScroll(): void {
    const el = this.scroller()?.nativeElement;
    if (!el) return;
    if (el.scrollHeight - el.scrollTop - el.clientHeight < 48) this.stickToBottom = true;
    else if (el.scrollTop < this.lastScrollTop) this.stickToBottom = false;
    this.lastScrollTop = el.scrollTop;
  }

  protected send(text = this.draft()): void {
    if (!this.store.send(text)) return;
    this.draft.set('');
    this.stickToBottom = true;
  }

  /** Enter sends, Shift+Enter is a new line; Enter that confirms an IME composition does neither. */
  protected onEnter(event: Event): void {
    const e = event as KeyboardEvent;
    if (e.shiftKey || e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    if (this.canSend()) this.send();
  }

  protected stop(): void {
    this.store.stop();
    this.composer()?.nativeElement.focus();
  }

  /** First click asks, the second (within a few seconds) clears. */
  protected clear(): void {
    if (!this.confirmingClear()) {
      this.confirmingClear.set(true);
      clearTimeout(this.clearTimer);
      this.clearTimer = setTimeout(() => this.confirmingClear.set(false), CLEAR_CONFIRM_MS);
      return;
    }
    clearTimeout(this.clearTimer);
    this.confirmingClear.set(false);
    this.store.clear();
    this.snackBar.open('对话已清空', undefined, { duration: 2000 });
  }
}
