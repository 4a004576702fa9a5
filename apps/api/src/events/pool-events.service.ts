import { Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';
import type { RequestLogEntry } from '#contracts';

/** What happened to one client request; stats and the request log consume these. */
export type RequestRecord = RequestLogEntry;

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
