import { Injectable, computed, signal } from '@angular/core';
import { readJson } from '../../core/browser';
import { TabStore, type TabRun, type TabSettings } from './tab-store';
import { TAB_CATEGORY } from './tab-view';
import { type ResponseFormat, type Transcript, fileProblem, isResponseFormat, parseTranscript, uploadFailureMessage } from './transcription-view';

/** /v1/audio/transcriptions behind the admin session (multipart). */
export const TRANSCRIPTION_TEST_URL = '/api/audio/transcriptions/test';
export const TRANSCRIPTION_STORAGE_KEY = 'g4f.console.playground.transcription';
/** A language code as the API takes it (ISO-639-1, sometimes with a region). */
const LANGUAGE = /^[a-z]{2,3}(?:-[A-Za-z]{2,4})?$/;

export interface TranscriptionSettings extends TabSettings {
  format: ResponseFormat;
  /** ISO-639-1 code, or '' to let the model detect it. */
  language: string;
}

const DEFAULTS: TranscriptionSettings = { model: null, provider: null, format: 'verbose_json', language: '' };

export interface TranscriptionRun extends TabRun {
  format: ResponseFormat;
  fileName: string;
  fileSize: number;
  transcript: Transcript | null;
}

/** The 语音识别 tab: model, format and language (remembered), the chosen audio, one upload at a time. */
@Injectable()
export class TranscriptionStore extends TabStore<TranscriptionSettings, TranscriptionRun> {
  protected readonly storageKey = TRANSCRIPTION_STORAGE_KEY;
  protected readonly category = TAB_CATEGORY.transcription;
  readonly settings = signal<TranscriptionSettings>(restore(readJson<Partial<TranscriptionSettings>>(this.storage, TRANSCRIPTION_STORAGE_KEY)));
  readonly file = signal<File | null>(null);

  readonly maxBytes = computed(() => this.limits()?.transcriptionMaxBytes ?? null);
  readonly fileProblem = computed(() => {
    const f = this.file();
    return f ? fileProblem(f, this.maxBytes()) : null;
  });
  readonly languageInvalid = computed(() => this.settings().language !== '' && !LANGUAGE.test(this.settings().language));
  readonly canSend = computed(() => this.modelId() !== null && this.file() !== null && !this.fileProblem() && !this.languageInvalid() && !this.busy());

  setFile(file: File | null): void {
    this.file.set(file);
  }

  /** Uploads the chosen audio; false when nothing was sent. */
  send(): boolean {
    const model = this.modelId();
    const file = this.file();
    if (!this.canSend() || !model || !file) return false;
    const { format, language } = this.settings();
    const pinned = this.pinned()?.name;
    const form = new FormData();
    form.set('file', file, file.name);
    form.set('model', model);
    form.set('response_format', format);
    if (language) form.set('language', language);
    if (pinned) form.set('provider', pinned);
    const maxBytes = this.maxBytes();
    this.submit(
      // Text, whatever the format: srt, vtt and text are not JSON, and the JSON ones are parsed here.
      this.http.post(TRANSCRIPTION_TEST_URL, form, { observe: 'response', responseType: 'text' }),
      { format, fileName: file.name, fileSize: file.size, transcript: null },
      (body) => ({ transcript: parseTranscript(body ?? '', format) }),
      (failure) => uploadFailureMessage(failure, file.size, maxBytes),
    );
    return true;
  }
}

function restore(stored: Partial<TranscriptionSettings> | null): TranscriptionSettings {
  return {
    model: typeof stored?.model === 'string' ? stored.model : DEFAULTS.model,
    provider: typeof stored?.provider === 'string' ? stored.provider : DEFAULTS.provider,
    format: isResponseFormat(stored?.format) ? stored.format : DEFAULTS.format,
    language: typeof stored?.language === 'string' ? stored.language.slice(0, 16) : DEFAULTS.language,
  };
}
