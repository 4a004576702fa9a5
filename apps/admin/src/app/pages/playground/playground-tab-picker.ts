import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatSelectModule } from '@angular/material/select';
import { PlaygroundModelOption } from './playground-model-option';
import { PlaygroundProviderPicker } from './playground-provider-picker';
import type { TabRun, TabSettings, TabStore } from './tab-store';

/** The model and provider pickers of the 嵌入 and 语音识别 tabs (the chat tab's model picker searches a far longer list; the provider picker is the chat settings' own). */
@Component({
  selector: 'app-playground-tab-picker',
  imports: [MatFormFieldModule, MatSelectModule, PlaygroundModelOption, PlaygroundProviderPicker],
  templateUrl: './playground-tab-picker.html',
  styleUrls: ['./playground-options.scss', './playground-tab-picker.scss'],
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PlaygroundTabPicker {
  readonly store = input.required<TabStore<TabSettings, TabRun>>();
  /** 嵌入模型, 语音识别模型. */
  readonly label = input.required<string>();
  /** Test ids start with it: emb, stt. */
  readonly prefix = input.required<string>();
}
