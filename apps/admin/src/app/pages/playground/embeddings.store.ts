import { Injectable, computed, signal } from '@angular/core';
import { readJson } from '../../core/browser';
import { type EmbeddingsAnswer, type EmbeddingsSummary, MAX_EMBEDDING_TEXT, splitInputs, summarizeEmbeddings } from './embeddings-view';
import { TabStore, type TabRun, type TabSettings } from './tab-store';
import { TAB_CATEGORY } from './tab-view';

/** /v1/embeddings behind the admin session. */
export const EMBEDDINGS_TEST_URL = '/api/embeddings/test';
export const EMBEDDINGS_STORAGE_KEY = 'g4f.console.playground.embeddings';

export interface EmbeddingsSettings extends TabSettings {
  /** The inputs, one per line. */
  text: string;
}

const DEFAULTS: EmbeddingsSettings = { model: null, provider: null, text: '今天天气很好\n今天阳光明媚\n我喜欢编程' };

export interface EmbeddingsRun extends TabRun {
  inputCount: number;
  summary: EmbeddingsSummary | null;
}

/** The 嵌入 tab: the model and inputs (remembered), one request at a time, and what came back. */
@Injectable()
export class EmbeddingsStore extends TabStore<EmbeddingsSettings, EmbeddingsRun> {
  protected readonly storageKey = EMBEDDINGS_STORAGE_KEY;
  protected readonly category = TAB_CATEGORY.embeddings;
  readonly settings = signal<EmbeddingsSettings>(restore(readJson<Partial<EmbeddingsSettings>>(this.storage, EMBEDDINGS_STORAGE_KEY)));

  readonly inputs = computed(() => splitInputs(this.settings().text));
  /** Why the inputs cannot be sent as they are, or null. */
  readonly inputProblem = computed(() => {
    const max = this.limits()?.embeddingMaxInputs;
    return max !== undefined && this.inputs().length > max ? `最多 ${max} 条输入，现在有 ${this.inputs().length} 条。` : null;
  });
  readonly canSend = computed(() => this.modelId() !== null && this.inputs().length > 0 && !this.inputProblem() && !this.busy());

  setText(text: string): void {
    this.update({ text: text.slice(0, MAX_EMBEDDING_TEXT) });
  }

  /** Sends the inputs; false when nothing was sent. */
  send(): boolean {
    const model = this.modelId();
    const inputs = this.inputs();
    if (!this.canSend() || !model) return false;
    const pinned = this.pinned()?.name;
    // One input goes as a string, as most clients send it; more as the batch.
    const body = { model, input: inputs.length === 1 ? inputs[0] : inputs, encoding_format: 'float', ...(pinned ? { provider: pinned } : {}) };
    this.submit(
      this.http.post<EmbeddingsAnswer>(EMBEDDINGS_TEST_URL, body, { observe: 'response' }),
      { inputCount: inputs.length, summary: null },
      (answer) => ({ summary: answer ? summarizeEmbeddings(inputs, answer) : null }),
    );
    return true;
  }
}

function restore(stored: Partial<EmbeddingsSettings> | null): EmbeddingsSettings {
  return {
    model: typeof stored?.model === 'string' ? stored.model : DEFAULTS.model,
    provider: typeof stored?.provider === 'string' ? stored.provider : DEFAULTS.provider,
    text: typeof stored?.text === 'string' ? stored.text.slice(0, MAX_EMBEDDING_TEXT) : DEFAULTS.text,
  };
}
