import type { AttemptSummary, Usage } from './openai.ts';

/** What happened to one client request: the events hook's record and a request log row. */
export interface RequestLogEntry {
  requestId: string;
  endpoint: 'chat' | 'images' | 'speech';
  model: string;
  stream: boolean;
  /** Epoch ms. */
  startedAt: number;
  /** HTTP status the client got (200 for a stream that started, even if it broke later). */
  status: number;
  provider: string | null;
  upstreamModel: string | null;
  latencyMs: number;
  /** Time to the first content, for streams and non-streams alike. */
  ttftMs: number | null;
  usage: Usage | null;
  usageEstimated: boolean;
  attempts: AttemptSummary[];
  error: string | null;
  /** A client key's id (never its secret), or null. */
  clientKey: string | null;
}
