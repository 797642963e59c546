import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { HTTP_STATUS_BY_CODE, type ErrorBody, type ErrorCode } from '@conduit/contracts';
import { isDatabaseUnavailable } from '@conduit/database';
import { RpcError } from '@conduit/messaging';
import { ApiError } from './api.error.js';

const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'validation_failed',
  429: 'rate_limited',
  503: 'unavailable',
  504: 'timeout',
};

/** Fastify's own errors (malformed JSON, body too large, bad content type) carry a statusCode. */
interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
}

const isFastifyClientError = (error: unknown): error is FastifyLikeError => {
  const status = (error as FastifyLikeError | undefined)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
};

/** A Fastify 4xx (its body parsing, mostly): a 400 names `body` as the field at fault. */
function fastifyErrorBody(error: FastifyLikeError): { status: number; body: ErrorBody } {
  const status = error.statusCode ?? 400;
  const code = CODE_BY_STATUS[status] ?? 'validation_failed';
  const message =
    error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || /JSON/i.test(error.message)
      ? 'body is not valid JSON'
      : error.message;
  return {
    status,
    body: { error: { code, message, ...(status === 400 ? { details: [{ field: 'body', message }] } : {}) } },
  };
}

/**
 * Every error leaves the gateway as `{ "error": { "code", "message", "details"? } }` with the
 * status its code maps to; internal details of a 500 are logged, never returned.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body } = this.toBody(exception);
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }

  private toBody(exception: unknown): { status: number; body: ErrorBody } {
    if (exception instanceof ApiError || exception instanceof RpcError) {
      const details = exception.details && exception.details.length > 0 ? [...exception.details] : undefined;
      const message = exception.code === 'internal' ? 'internal error' : exception.message;
      return {
        status: HTTP_STATUS_BY_CODE[exception.code],
        body: { error: { code: exception.code, message, ...(details ? { details } : {}) } },
      };
    }
    // The gateway's own reads (API keys) when Postgres is down: retryable, like the services' 503.
    if (isDatabaseUnavailable(exception)) {
      return {
        status: 503,
        body: { error: { code: 'unavailable', message: 'database unavailable, retry later' } },
      };
    }
    // Nest wraps Fastify's own 4xx errors (a malformed body, say) in an HttpException.
    const cause = exception instanceof HttpException ? exception.cause : undefined;
    if (isFastifyClientError(cause)) return fastifyErrorBody(cause);
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'validation_failed');
      return { status, body: { error: { code, message: exception.message } } };
    }
    if (isFastifyClientError(exception)) return fastifyErrorBody(exception);
    this.logger.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    return { status: 500, body: { error: { code: 'internal', message: 'internal error' } } };
  }
}
