import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatAutocompleteModule } from '@angular/material/autocomplete';
import { MatButtonModule } from '@angular/material/button';
import { MatButtonToggleModule } from '@angular/material/button-toggle';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { MatSliderModule } from '@angular/material/slider';
import { MatTooltipModule } from '@angular/material/tooltip';
import { CdkTextareaAutosize } from '@angular/cdk/text-field';
import { PlaygroundModelOption } from './playground-model-option';
import { PlaygroundProviderPicker } from './playground-provider-picker';
import { CATEGORY_LABELS, IMAGE_SIZES } from './playground-view';
import { MAX_IMAGES, MAX_TOKENS_LIMIT, PlaygroundStore } from './playground.store';

/** The playground's pickers: model (searchable, grouped), provider, and the request parameters. */
@Component({
  selector: 'app-playground-settings',
  imports: [
    FormsModule,
    MatAutocompleteModule,
    MatButtonModule,
    MatButtonToggleModule,
    MatFormFieldModule,
    MatIconModule,
    MatInputModule,
    MatSelectModule,
    MatSliderModule,
    MatTooltipModule,
    CdkTextareaAutosize,
    PlaygroundModelOption,
    PlaygroundProviderPicker,
  ],
  templateUrl: './playground-settings.html',
  styleUrls: ['./playground-options.scss', './playground-settings.scss'],
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PlaygroundSettingsPanel {
  protected readonly store = inject(PlaygroundStore);
  protected readonly sizes = IMAGE_SIZES;
  protected readonly counts = Array.from({ length: MAX_IMAGES }, (_, i) => i + 1);
  protected readonly categoryLabels = CATEGORY_LABELS;
  protected readonly maxTokensLimit = MAX_TOKENS_LIMIT;

  /** What the admin types in the model field while searching; the field shows the chosen model otherwise. */
  protected readonly query = signal('');
  protected readonly searching = signal(false);
  protected readonly groups = computed(() => this.store.groups(this.searching() ? this.query() : ''));
  protected readonly modelCount = computed(() => this.groups().reduce((n, g) => n + g.models.length, 0));
  protected readonly maxTokensInvalid = signal(false);

  protected startSearch(): void {
    this.query.set('');
    this.searching.set(true);
  }

  protected endSearch(): void {
    this.searching.set(false);
    this.query.set('');
  }

  protected pickModel(id: string): void {
    this.store.setModel(id);
    this.endSearch();
  }

  protected setMaxTokens(raw: string | number | null): void {
    const text = String(raw ?? '').trim();
    if (text === '') {
      this.maxTokensInvalid.set(false);
      this.store.update({ maxTokens: null });
      return;
    }
    const n = Number(text);
    const ok = Number.isInteger(n) && n >= 1 && n <= MAX_TOKENS_LIMIT;
    this.maxTokensInvalid.set(!ok);
    if (ok) this.store.update({ maxTokens: n });
  }

  protected formatTemperature(value: number): string {
    return value.toFixed(1);
  }
}
