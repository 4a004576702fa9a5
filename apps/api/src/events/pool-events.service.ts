import { Injectable, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Subject } from 'rxjs';
import type { RequestLogEntry } from '#contracts';
import { CatalogService } from '../models/catalog.service.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';
import { UNKNOWN_LABEL, boundRecord } from './record-bounds.ts';

/** What happened to one client request; stats and the request log consume these. */
export type RequestRecord = RequestLogEntry;

/** Who knows which model ids and provider names are real; both change at runtime (custom upstreams). */
export interface KnownNames {
  /** The catalog id of a model id or alias (any case), or undefined. */
  model(id: string): string | undefined;
  /** The provider's own name for a name or id, or undefined. */
  provider(name: string): string | undefined;
}

/**
 * The hook between the request path and whatever records it. Emitting is synchronous and
 * cheap; subscribers must buffer and write in batches, never on the request path. Every
 * record leaves here with its text fields length-limited (see boundRecord).
 */
@Injectable()
export class PoolEvents {
  readonly requests = new Subject<RequestRecord>();
  private known?: KnownNames;

  /** Without a ModuleRef (unit tests) or before known() is set, every name counts as known. */
  constructor(@Optional() private readonly moduleRef?: ModuleRef) {}

  emit(record: RequestRecord): void {
    if (this.requests.observed) this.requests.next(boundRecord(record));
  }

  /** Replaces where known names come from (tests). */
  useKnownNames(known: KnownNames): void {
    this.known = known;
  }

  /**
   * A model id fit for a metric label or a stats key: the catalog's id (aliases and case
   * resolved), or "unknown", so that clients cannot create series or rows at will.
   */
  modelLabel(model: string): string {
    const known = this.knownNames();
    return known ? (known.model(model) ?? UNKNOWN_LABEL) : model;
  }

  /** Like modelLabel, for providers. */
  providerLabel(provider: string): string {
    const known = this.knownNames();
    return known ? (known.provider(provider) ?? UNKNOWN_LABEL) : provider;
  }

  /** Looked up lazily: the catalog lives in the application module, which depends on this one. */
  private knownNames(): KnownNames | undefined {
    if (this.known || !this.moduleRef) return this.known;
    try {
      const catalog = this.moduleRef.get(CatalogService, { strict: false });
      const registry = this.moduleRef.get(ProviderRegistry, { strict: false });
      this.known = { model: (id) => catalog.resolve(id)?.id, provider: (name) => registry.find(name)?.name };
    } catch {
      // A test module without a catalog: names stay as recorded (they are length-limited anyway).
    }
    return this.known;
  }
}
