import { ChangeDetectionStrategy, Component, DestroyRef, type ElementRef, computed, inject, signal, viewChild } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatProgressSpinnerModule } from '@angular/material/progress-spinner';
import { MatSelectModule } from '@angular/material/select';
import { MatTooltipModule } from '@angular/material/tooltip';
import { RouterLink } from '@angular/router';
import { StateView } from '../../shared/state/state';
import { AudioRecorder, MAX_RECORDING_MS } from './audio-recorder';
import { PlaygroundTabPicker } from './playground-tab-picker';
import { PlaygroundTabRun } from './playground-tab-run';
import { AttemptsLookup } from './tab-support';
import { TranscriptionStore } from './transcription.store';
import { AUDIO_ACCEPT, RESPONSE_FORMATS, formatBytes, formatTimestamp } from './transcription-view';

/** 在线对话测试 · 语音识别: upload (or record) a clip, pick the answer's format, read the transcript and who made it. */
@Component({
  selector: 'app-playground-transcription',
  imports: [
    FormsModule,
    MatButtonModule,
    MatFormFieldModule,
    MatIconModule,
    MatInputModule,
    MatProgressSpinnerModule,
    MatSelectModule,
    MatTooltipModule,
    PlaygroundTabPicker,
    PlaygroundTabRun,
    RouterLink,
    StateView,
  ],
  providers: [TranscriptionStore, AttemptsLookup, AudioRecorder],
  templateUrl: './playground-transcription.html',
  styleUrls: ['./playground-options.scss', './playground-tags.scss', './playground-tab.scss', './playground-transcription.scss'],
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PlaygroundTranscription {
  protected readonly store = inject(TranscriptionStore);
  protected readonly recorder = inject(AudioRecorder);
  protected readonly formats = RESPONSE_FORMATS;
  protected readonly accept = AUDIO_ACCEPT;
  protected readonly formatBytes = formatBytes;
  protected readonly formatTimestamp = formatTimestamp;
  protected readonly maxRecordingSeconds = MAX_RECORDING_MS / 1000;
  protected readonly dragging = signal(false);
  /** An object URL of the chosen clip, for the player (revoked when the clip changes or the tab goes). */
  protected readonly audioUrl = signal<string | null>(null);
  protected readonly formatHint = computed(() => this.formats.find((f) => f.value === this.store.settings().format)?.hint ?? '');

  private readonly picker = viewChild<ElementRef<HTMLInputElement>>('picker');

  constructor() {
    inject(DestroyRef).onDestroy(() => this.revoke());
  }

  protected choose(): void {
    this.picker()?.nativeElement.click();
  }

  protected onPicked(event: Event): void {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0] ?? null;
    if (file) this.useFile(file);
    // The same file again is a change too.
    input.value = '';
  }

  protected onDrop(event: DragEvent): void {
    event.preventDefault();
    this.dragging.set(false);
    const file = event.dataTransfer?.files?.[0];
    if (file) this.useFile(file);
  }

  protected onDragOver(event: DragEvent): void {
    event.preventDefault();
    this.dragging.set(true);
  }

  protected clearFile(): void {
    this.revoke();
    this.store.setFile(null);
  }

  protected toggleRecording(): void {
    if (this.recorder.state() === 'recording') this.recorder.stop();
    else void this.recorder.start((file) => this.useFile(file));
  }

  private useFile(file: File): void {
    this.revoke();
    this.store.setFile(file);
    this.audioUrl.set(typeof URL.createObjectURL === 'function' ? URL.createObjectURL(file) : null);
  }

  private revoke(): void {
    const url = this.audioUrl();
    if (url) URL.revokeObjectURL(url);
    this.audioUrl.set(null);
  }
}
