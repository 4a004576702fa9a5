import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { UpstreamError } from '../providers/provider-adapter.ts';
import { truncate } from '../events/record-bounds.ts';
import { storageUnavailable } from '../storage/storage-errors.ts';
import { ApiError } from '../common/api-error.ts';
import { requestIdOf } from '../common/request-id.middleware.ts';
import { errorEnvelope } from './anthropic-errors.ts';

const STORAGE_UNAVAILABLE = 'storage_unavailable';
/** Longest error message a client gets. */
const MAX_MESSAGE_CHARS = 4000;
/** Longest stack the log keeps of an unexpected error. */
const MAX_LOGGED_STACK_CHARS = 8000;

/** body-parser's errors carry a `type` and a `status`. */
interface BodyParserError {
  type?: string;
  status?: number;
  statusCode?: number;
}

/** Maps anything thrown into the one error shape clients see. */
export function toApiError(exception: unknown, req?: Request): ApiError {
  if (exception instanceof ApiError) return exception;
  if (exception instanceof UpstreamError) return new ApiError(502, exception.message, 'upstream_error', exception.kind);

  const parser = (exception instanceof HttpException ? exception.cause : exception) as BodyParserError | undefined;
  const parserType = parser?.type ?? (exception as BodyParserError)?.type;
  if (parserType === 'entity.parse.failed') {
    return ApiError.badRequest(
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)",
      null,
      'invalid_json',
    );
  }
  if (parserType === 'entity.too.large') return new ApiError(413, 'The request body is too large.', 'invalid_request_error', 'request_too_large');
  if (parserType === 'charset.unsupported' || parserType === 'encoding.unsupported') {
    return new ApiError(415, 'Unsupported request body encoding.', 'invalid_request_error', 'unsupported_encoding');
  }

  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 404) {
      const where = req ? `${req.method} ${req.path}` : 'this URL';
      return new ApiError(404, `Unknown request URL: ${where}. Please check the URL for typos.`, 'invalid_request_error', 'unknown_url');
    }
    if (status === 413) return new ApiError(413, 'The request body is too large.', 'invalid_request_error', 'request_too_large');
    const type =
      status === 401
        ? 'authentication_error'
        : status === 403
          ? 'permission_error'
          : status === 429
            ? 'rate_limit_exceeded'
            : status >= 500
              ? 'server_error'
              : 'invalid_request_error';
    return new ApiError(status, exception.message, type);
  }
  const status = parser?.status ?? parser?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return ApiError.badRequest((exception as Error).message);
  // Redis away, SQLite busy, read-only or full: the call may work later, so 503, not a 500 that reads like a bug.
  const storage = storageUnavailable(exception);
  if (storage) return new ApiError(503, storage, 'server_error', STORAGE_UNAVAILABLE, null, undefined, { 'retry-after': '5' });
  return new ApiError(500, 'The server had an error while processing your request.', 'server_error', 'internal_error');
}

/**
 * The one global filter: every error leaves as `{"error":{"message","type","param","code"}}`, or in
 * Anthropic's envelope on the Messages API's paths (anthropic-errors.ts).
 */
@Catch()
export class OpenAIExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const error = toApiError(exception, req);
    if (error.code === STORAGE_UNAVAILABLE) {
      // An outage, not a bug: one line, no stack (every call fails alike until the store is back).
      this.logger.warn(`${req.method} ${req.path}: ${error.message} (${truncate((exception as Error)?.message ?? String(exception), 300)})`);
    } else if (error.status >= 500 && !(exception instanceof ApiError)) {
      this.logger.error(`${req.method} ${req.path}: ${truncate((exception as Error)?.stack ?? String(exception), MAX_LOGGED_STACK_CHARS)}`);
    }
    if (res.headersSent || res.destroyed) {
      if (!res.writableEnded) res.end();
      return;
    }
    for (const [k, v] of Object.entries(error.headers)) res.setHeader(k, v);
    const envelope = errorEnvelope(error, req.path, requestIdOf(res));
    // Messages echo what the client sent (a 1 MB model name) or an upstream said: bounded like everything logged.
    envelope.error.message = truncate(envelope.error.message, MAX_MESSAGE_CHARS);
    res.status(error.status).json(envelope);
  }
}
