import type { AttemptSummary, OpenAIErrorEnvelope } from '#contracts';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_exceeded'
  // OpenAI's type (and code) for a key out of credit: a client key over one of its quotas.
  | 'insufficient_quota'
  | 'server_error'
  | 'upstream_error'
  | 'timeout_error';

/** An error the client sees, rendered by the global filter in OpenAI's envelope. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ErrorType,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly attempts?: AttemptSummary[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toEnvelope(): OpenAIErrorEnvelope {
    const error: OpenAIErrorEnvelope['error'] = { message: this.message, type: this.type, param: this.param, code: this.code };
    if (this.attempts?.length) error.attempts = this.attempts;
    return { error };
  }

  static badRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
    return new ApiError(400, message, 'invalid_request_error', code, param);
  }
}
