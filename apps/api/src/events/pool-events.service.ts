import { Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';
import type { AttemptSummary, Usage } from '#contracts';

/** What happened to one client request; stats and the request log consume these. */
export interface RequestRecord {
  requestId: string;
  endpoint: 'chat';
  model: string;
  stream: boolean;
  startedAt: number;
  /** HTTP status the client got (200 for a stream that started, even if it later broke). */
  status: number;
  provider: string | null;
  upstreamModel: string | null;
  latencyMs: number;
  /** Time to the first content event, for streams and non-streams alike. */
  ttftMs: number | null;
  usage: Usage | null;
  usageEstimated: boolean;
  attempts: AttemptSummary[];
  error: string | null;
  /** Which client key made it (its id, never the secret), when keys are in use. */
  clientKey: string | null;
}

/**
 * The hook between the request path and whatever records it. Emitting is synchronous and
 * cheap; subscribers must buffer and write in batches, never on the request path.
 */
@Injectable()
export class PoolEvents {
  readonly requests = new Subject<RequestRecord>();

  emit(record: RequestRecord): void {
    if (this.requests.observed) this.requests.next(record);
  }
}
