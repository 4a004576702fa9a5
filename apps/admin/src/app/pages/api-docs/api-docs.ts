import { Clipboard } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, DOCUMENT, DestroyRef, afterNextRender, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatTooltipModule } from '@angular/material/tooltip';
import { RouterLink } from '@angular/router';
import { API_KEY_PLACEHOLDER, type Snippet, type SnippetId, baseUrlFor } from '../dashboard/snippets';
import {
  ADMIN_ENDPOINTS,
  DOC_SECTIONS,
  ERROR_ROWS,
  ONEAPI_COMPOSE_BASE_URL,
  ONEAPI_COMPOSE_COMMAND,
  SAMPLE_CHAT_MODEL,
  V1_ENDPOINTS,
  adminSample,
  chatSamples,
  imageSamples,
  modelsSamples,
  oneApiChannel,
  originOf,
  speechSamples,
} from './api-docs-content';
import { CodeSamples } from '../../shared/code-samples/code-samples';

/** The part of the DOM this page touches (the project is typed without the DOM lib in tests). */
interface SectionElement {
  id: string;
  scrollIntoView(options?: { behavior?: 'smooth' | 'auto'; block?: 'start' }): void;
}

/**
 * API 文档: how to call this server (its real base URL in every sample), how client keys work,
 * the admin API in brief, one-api's channel settings, and the way to the full Swagger UI at /docs.
 */
@Component({
  selector: 'app-api-docs-page',
  imports: [MatButtonModule, MatIconModule, MatTooltipModule, RouterLink, CodeSamples],
  templateUrl: './api-docs.html',
  styleUrl: './api-docs.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export default class ApiDocsPage {
  private readonly document = inject(DOCUMENT);
  private readonly clipboard = inject(Clipboard);

  /** This server's OpenAI base URL (`…/v1`) and its origin, from the address the console was opened at. */
  readonly baseUrl = baseUrlFor(this.document.location.origin);
  readonly origin = originOf(this.baseUrl);
  readonly sections = DOC_SECTIONS;
  /** The language of every sample on the page. */
  readonly language = signal<SnippetId>('python');
  /** The section in view, for the table of contents. */
  readonly active = signal<string>(DOC_SECTIONS[0]!.id);
  /** What was copied last ('base' / 'origin'), for a moment. */
  readonly copied = signal<string | null>(null);

  protected readonly placeholder = API_KEY_PLACEHOLDER;
  protected readonly chatModel = SAMPLE_CHAT_MODEL;
  protected readonly samples = {
    chat: chatSamples(this.baseUrl),
    models: modelsSamples(this.baseUrl),
    images: imageSamples(this.baseUrl),
    speech: speechSamples(this.baseUrl),
    admin: [adminSample(this.origin)],
    compose: [{ id: 'curl', label: 'Shell', language: 'bash', code: ONEAPI_COMPOSE_COMMAND }] satisfies Snippet[],
  };
  protected readonly v1Endpoints = V1_ENDPOINTS;
  protected readonly adminEndpoints = ADMIN_ENDPOINTS;
  protected readonly errorRows = ERROR_ROWS;
  protected readonly channel = oneApiChannel(this.origin);
  protected readonly composeBaseUrl = ONEAPI_COMPOSE_BASE_URL;

  private copiedTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    const destroyRef = inject(DestroyRef);
    destroyRef.onDestroy(() => clearTimeout(this.copiedTimer));
    afterNextRender(() => {
      const observer = this.watchSections();
      destroyRef.onDestroy(() => observer?.disconnect());
    });
  }

  copy(what: 'base' | 'origin', text: string): void {
    if (!this.clipboard.copy(text)) return;
    this.copied.set(what);
    clearTimeout(this.copiedTimer);
    this.copiedTimer = setTimeout(() => this.copied.set(null), 2000);
  }

  /** A table-of-contents click: scrolls to the section (the shell scrolls inside its content pane). */
  jump(event: Event, id: string): void {
    event.preventDefault();
    const el = this.document.getElementById(id) as SectionElement | null;
    if (!el) return;
    el.scrollIntoView({ behavior: 'smooth', block: 'start' });
    this.active.set(id);
  }

  /** Marks the topmost section in view as active while the page scrolls. */
  private watchSections(): { disconnect(): void } | null {
    const view = this.document.defaultView as (Window & typeof globalThis) | null;
    if (!view || typeof view.IntersectionObserver !== 'function') return null;
    const visible = new Set<string>();
    const observer = new view.IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          if (e.isIntersecting) visible.add(e.target.id);
          else visible.delete(e.target.id);
        }
        const first = this.sections.find((s) => visible.has(s.id));
        if (first) this.active.set(first.id);
      },
      // A section counts while it crosses the band below the title bar.
      { rootMargin: '-80px 0px -55% 0px' },
    );
    for (const s of this.sections) {
      const el = this.document.getElementById(s.id);
      if (el) observer.observe(el);
    }
    return observer;
  }
}
