import { NEVER, type Observable } from 'rxjs';

/**
 * Messages between the processes of a cluster, for state that is not worth a storage write per
 * change but must reach every replica (breaker openings). The embedded mode has a single
 * process and a bus that goes nowhere; cluster mode's travels through Redis pub/sub. Users
 * write the same code for both.
 */
export const CLUSTER_BUS = Symbol('CLUSTER_BUS');

export interface RetainOptions {
  /** A later message retained under the same id replaces this one. */
  id: string;
  /** How long (ms) it is kept for processes that subscribe or reconnect meanwhile. */
  ms: number;
}

export interface ClusterBus {
  /**
   * Sends `message` to the other processes on `topic`. With `retain`, the message is also kept
   * for a while and delivered to processes that start, or reconnect after missing it.
   * Rejects when the message could not be sent (Redis unreachable).
   */
  publish(topic: string, message: string, retain?: RetainOptions): Promise<void>;
  /**
   * Messages on `topic` from the other processes (never this one's own), retained ones first
   * and again after a reconnect: a message may arrive more than once, so applying one must be
   * idempotent.
   */
  messages(topic: string): Observable<string>;
}

/** The embedded mode's bus: there is nobody else to tell. */
export class LocalClusterBus implements ClusterBus {
  publish(): Promise<void> {
    return Promise.resolve();
  }

  messages(): Observable<string> {
    return NEVER;
  }
}
