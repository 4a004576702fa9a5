import { Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';
import type { RequestLogEntry } from '#contracts';
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

  emit(record: RequestRecord): void {
    if (this.requests.observed) this.requests.next(boundRecord(record));
  }

  /**
   * Where known names come from: the models module hands them down at startup (see
   * KnownNamesLink). Until then, and in a test module without a catalog, every name counts as
   * known (records are length-limited anyway).
   */
  useKnownNames(known: KnownNames): void {
    this.known = known;
  }

  /**
   * A model id fit for a metric label or a stats key: the catalog's id (aliases and case
   * resolved), or "unknown", so that clients cannot create series or rows at will.
   */
  modelLabel(model: string): string {
    const known = this.known;
    return known ? (known.model(model) ?? UNKNOWN_LABEL) : model;
  }

  /** Like modelLabel, for providers. */
  providerLabel(provider: string): string {
    const known = this.known;
    return known ? (known.provider(provider) ?? UNKNOWN_LABEL) : provider;
  }
}
