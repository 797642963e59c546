import { Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { context } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { Histogram, register } from 'prom-client';
import { REQUEST_ID_HEADER } from './request-id.js';
import { RouteStatsWindow } from './route-stats.js';
import { isProbeRoute, requestContextOf } from './server-span.js';

/** Route label of a request no route matched (404s): one series for all of them. */
export const UNMATCHED_ROUTE = 'unmatched';

// Looked up first because a second Nest app in the same process (tests) must not register the
// same metric twice: prom-client throws on that.
const histogram =
  (register.getSingleMetric('http_server_request_duration_seconds') as
    Histogram<'method' | 'route' | 'status_code'> | undefined) ??
  new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'HTTP server request duration in seconds, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });

/**
 * Installs three Fastify hooks on the app's instance at module init (through `HttpAdapterHost`;
 * nothing to call by hand). `onRequest`: echoes the request id as `x-request-id` (the server
 * span, named by route, is `installServerSpans`'). `onResponse`: observes
 * `http_server_request_duration_seconds{method,route,status_code}` — `route` is the pattern
 * (`/devices/:id`), never the raw URL, so cardinality stays bounded; no route matched gives
 * `unmatched` — and writes one `request completed` log line (not for /health, /readyz, /metrics).
 * `onSend`: `X-Response-Time` and `Server-Timing: app;dur=…`. The last minute per route is
 * also kept in {@link HttpMetricsService.window} for `/performance/metrics`.
 * All are plain callback hooks: no promise per request on the gateway's hot path.
 */
@Injectable()
export class HttpMetricsService implements OnModuleInit {
  /** The last minute per route, for `/performance/metrics`. */
  readonly window = new RouteStatsWindow();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Optional() private readonly logger?: PinoLogger,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    // Not on Fastify (or a microservice-only context): nothing to hook into.
    if (typeof fastify?.addHook !== 'function') return;
    fastify.addHook('onRequest', (request, reply, done) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      done();
    });
    // The time spent in the service, for clients and browsers' dev tools (whatever the route).
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      const ms = reply.elapsedTime.toFixed(2);
      void reply.header('x-response-time', `${ms}ms`);
      void reply.header('server-timing', `app;dur=${ms}`);
      done(null, payload);
    });
    fastify.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
      const seconds = reply.elapsedTime / 1000;
      histogram.observe({ method: request.method, route, status_code: String(reply.statusCode) }, seconds);
      if (!isProbeRoute(route))
        this.window.record(`${request.method} ${route}`, reply.statusCode, reply.elapsedTime);
      if (this.logger && !isProbeRoute(route)) {
        const line = {
          request_id: request.id,
          method: request.method,
          route,
          url: request.url,
          status: reply.statusCode,
          duration_ms: Math.round(reply.elapsedTime * 100) / 100,
        };
        // Called from the response's `finish` event, outside the request's context: entered
        // again so that the line carries the request's trace id.
        const ctx = requestContextOf(request);
        if (ctx) context.with(ctx, () => this.logger?.info(line, 'request completed'));
        else this.logger.info(line, 'request completed');
      }
      done();
    });
  }
}
