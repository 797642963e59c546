import { Module, RequestMethod, type DynamicModule } from '@nestjs/common';
import type { BaseConfig } from '@conduit/config';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { LoggerModule } from 'nestjs-pino';
import { pino, type DestinationStream } from 'pino';
import { requestIdOf } from './request-id.js';

/** Log lines are written once this many bytes have gathered, and whatever has gathered every {@link LOG_FLUSH_MS}. */
const LOG_BUFFER_BYTES = 4096;
const LOG_FLUSH_MS = 200;

/** Options of {@link LoggingModule.forRoot}. */
export interface LoggingOptions {
  /** Lowest level written (`silent` writes nothing). */
  readonly level: BaseConfig['log']['level'];
  /** Written as `service` on every line. */
  readonly serviceName: string;
  /** Where lines go; default stdout. Tests pass a stream to read them. */
  readonly destination?: DestinationStream;
}

/**
 * pino `mixin`: `trace_id` and `span_id` of the active span, on every line logged inside one.
 * Done here rather than by the pino instrumentation so that it holds however pino was loaded
 * and whether or not the SDK patched it.
 */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext)
    ? { trace_id: spanContext.traceId, span_id: spanContext.spanId }
    : {};
}

/**
 * What a line logged during a request says about it: id, method and URL — never headers, so
 * credentials (`authorization`, `x-api-key`, cookies) cannot reach a log line. Cheaper too than
 * serialising every header and redacting (a deep clone per line, measured at ~6 % of the
 * gateway's CPU under load).
 */
const serializers = {
  req: (req: { id?: unknown; method?: string; url?: string }) => ({
    id: req.id,
    method: req.method,
    url: req.url,
  }),
  res: (res: { statusCode?: number }) => ({ status: res.statusCode }),
};

/**
 * JSON lines through pino (nestjs-pino), one object per line: `level`, `time`, `service`,
 * `msg`, `trace_id`/`span_id` inside a span, and — for lines logged while handling an HTTP
 * request — `req` with its id (`x-request-id`, or a generated UUID; the same id Fastify echoes).
 * No header is ever logged (see `serializers`).
 * pino-http's automatic request logging is off: the Fastify hook of `ObservabilityModule` writes
 * one `request completed` line per request with the route pattern, and none for /health,
 * /readyz or /metrics. Provides nestjs-pino's `Logger` (for `app.useLogger`) and `PinoLogger`.
 */
@Module({})
export class LoggingModule {
  static forRoot(options: LoggingOptions): DynamicModule {
    const pinoOptions = {
      level: options.level,
      base: { service: options.serviceName },
      mixin: traceFields,
      serializers,
      genReqId: requestIdOf,
      autoLogging: false,
    };
    // Buffered asynchronous writes to stdout: lines go out together once 4 KB have gathered, or
    // every 200 ms, instead of one write(2) per line (pino's default) — with `sync: false` alone
    // each request line of the gateway was a libuv thread-pool write (a worker wake-up, its
    // write, the loop's wake-up: about 5 syscalls and 2 context switches per request). Flushed
    // synchronously when the process exits; a SIGKILL can lose the last 200 ms of lines.
    const destination =
      options.destination ??
      pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS });
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: [pinoOptions, destination],
          // nestjs-pino's default (`{/*splat}`) matches no request on Nest 12's Fastify adapter:
          // the request context (req on every line, the request id) was silently missing.
          forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
        }),
      ],
      exports: [LoggerModule],
    };
  }
}
