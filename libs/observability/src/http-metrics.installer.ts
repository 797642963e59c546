import { Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { trace } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { Histogram, register } from 'prom-client';

/** Probes and scrapes are not logged: they would drown everything else. */
const QUIET = /^\/(health|readyz|metrics)$/;

const histogram =
  (register.getSingleMetric('http_server_request_duration_seconds') as Histogram<
    'method' | 'route' | 'status_code'
  >) ??
  new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });

/**
 * Fastify hooks on every request: the latency histogram labelled by route pattern (bounded
 * cardinality; `unmatched` for 404s), the route on the HTTP server span (the http
 * instrumentation knows only the URL), the request id echoed as `x-request-id`, and one log
 * line per request (probes excepted) with its trace id.
 */
@Injectable()
export class HttpMetricsInstaller implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Optional() private readonly logger?: PinoLogger,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify?.addHook) return;
    fastify.addHook('onRequest', async (request, reply) => {
      reply.header('x-request-id', request.id);
      const route = request.routeOptions.url;
      const span = trace.getActiveSpan();
      if (route && span) {
        span.setAttribute('http.route', route);
        span.updateName(`${request.method} ${route}`);
      }
    });
    fastify.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      histogram.observe(
        { method: request.method, route, status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
      if (this.logger && !QUIET.test(route)) {
        this.logger.info(
          {
            request_id: request.id,
            method: request.method,
            route,
            url: request.url,
            status: reply.statusCode,
            duration_ms: Math.round(reply.elapsedTime * 100) / 100,
          },
          'request completed',
        );
      }
    });
  }
}
