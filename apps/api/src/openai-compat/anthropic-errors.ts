import type { NextFunction, Request, Response } from 'express';
import type { AttemptSummary, OpenAIErrorEnvelope } from '#contracts';
import type { ApiError } from '../common/api-error.ts';
import { requestIdOf } from '../common/request-id.middleware.ts';
import type { StreamFailure } from './answer-protocol.ts';

/** Anthropic's error types, as its SDKs know them. */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  | 'overloaded_error';

/** `{"type":"error","error":{"type","message"},"request_id"}`; `attempts` is the gateway's extension, as on OpenAI's envelope. */
export interface AnthropicErrorEnvelope {
  type: 'error';
  error: { type: AnthropicErrorType; message: string; attempts?: AttemptSummary[] };
  request_id: string | null;
}

/** The Anthropic Messages API's paths: every error on them is in Anthropic's envelope, whoever raised it. */
export function isAnthropicPath(path: string): boolean {
  return path === '/v1/messages' || path.startsWith('/v1/messages/') || path.startsWith('/v1/messages?');
}

/**
 * Anthropic names its request id `request-id`; its SDKs read it into `_request_id` and their
 * errors' `requestID`. On the Messages API's paths the gateway's own id goes there too (after
 * requestIdMiddleware, which sets `x-request-id`).
 */
export function anthropicRequestId(req: Request, res: Response, next: NextFunction): void {
  if (isAnthropicPath(req.path)) res.setHeader('request-id', requestIdOf(res));
  next();
}

/** Anthropic's type for an HTTP status (its documented table; other statuses by their class). */
export function anthropicErrorType(status: number): AnthropicErrorType {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/**
 * A mid-stream failure (an upstream that broke, a bug, the shutdown cut) as Anthropic's `error`
 * event says it: a server-side failure, whatever its OpenAI type.
 */
export function anthropicStreamError(failure: StreamFailure): AnthropicErrorEnvelope['error'] {
  return { type: 'api_error', message: failure.message };
}

/**
 * The body of an error answer on `path`: Anthropic's envelope on the Messages API's paths, so that
 * Anthropic SDKs read it (typed errors, the message), OpenAI's everywhere else.
 */
export function errorEnvelope(error: ApiError, path: string, requestId: string | null): OpenAIErrorEnvelope | AnthropicErrorEnvelope {
  if (!isAnthropicPath(path)) return error.toEnvelope();
  const body: AnthropicErrorEnvelope['error'] = { type: anthropicErrorType(error.status), message: error.message };
  if (error.attempts?.length) body.attempts = error.attempts;
  return { type: 'error', error: body, request_id: requestId || null };
}
