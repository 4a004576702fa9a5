import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { CdkTextareaAutosize } from '@angular/cdk/text-field';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatProgressSpinnerModule } from '@angular/material/progress-spinner';
import { RouterLink } from '@angular/router';
import { formatCount } from '../../core/format';
import { StateView } from '../../shared/state/state';
import { EmbeddingsStore } from './embeddings.store';
import { MAX_SHOWN_VECTORS, formatSimilarity, similarityShade } from './embeddings-view';
import { PlaygroundTabPicker } from './playground-tab-picker';
import { PlaygroundTabRun } from './playground-tab-run';
import { AttemptsLookup, PlaygroundLimitsLoader } from './tab-support';

/** 在线对话测试 · 嵌入: texts in, vectors out — their length, first values, usage and how alike the texts are. */
@Component({
  selector: 'app-playground-embeddings',
  imports: [
    FormsModule,
    CdkTextareaAutosize,
    MatButtonModule,
    MatFormFieldModule,
    MatIconModule,
    MatInputModule,
    MatProgressSpinnerModule,
    PlaygroundTabPicker,
    PlaygroundTabRun,
    RouterLink,
    StateView,
  ],
  providers: [EmbeddingsStore, AttemptsLookup],
  templateUrl: './playground-embeddings.html',
  styleUrls: ['./playground-tab.scss', './playground-embeddings.scss'],
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PlaygroundEmbeddings {
  protected readonly store = inject(EmbeddingsStore);
  /** Provided by the page, shared with the other tabs. */
  protected readonly limits = inject(PlaygroundLimitsLoader).limits;
  protected readonly formatCount = formatCount;
  protected readonly formatSimilarity = formatSimilarity;
  protected readonly shade = similarityShade;
  protected readonly maxShown = MAX_SHOWN_VECTORS;

  /** Ctrl/⌘+Enter sends (Enter alone is a new input line). */
  protected onKey(event: Event): void {
    const e = event as KeyboardEvent;
    if (!(e.ctrlKey || e.metaKey)) return;
    e.preventDefault();
    if (this.store.canSend()) this.store.send();
  }
}
