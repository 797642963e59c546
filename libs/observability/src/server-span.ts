import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Probes and scrapes (`HealthController`'s routes) make no spans and no request log lines: they
 * would be most of both and tell nothing.
 */
const PROBE_ROUTES: ReadonlySet<string> = new Set(['/health', '/readyz', '/metrics']);
export const isProbeRoute = (route: string): boolean => PROBE_ROUTES.has(route);

const tracer = trace.getTracer('@conduit/observability');

const SPAN = Symbol('conduit.serverSpan');
const CONTEXT = Symbol('conduit.serverContext');

interface Traced {
  [SPAN]?: Span;
  [CONTEXT]?: Context;
}

/**
 * The context of a request's server span (its trace and span ids), for work that runs outside
 * the handler's own async chain — hooks called from the response's `finish` event, say.
 */
export function requestContextOf(request: FastifyRequest): Context | undefined {
  return (request as unknown as Traced)[CONTEXT];
}

/**
 * Makes the HTTP server span of every request from Fastify hooks, instead of the OpenTelemetry
 * http instrumentation (started with `incomingHttp: false` by `@conduit/tracing`).
 *
 * Why: the instrumentation works on every request whether it is sampled or not — it reads all
 * the request's attributes, binds the request and response emitters (each listener wrapped) and
 * patches `res.end`. In the gateway-cached bench, with no trace even exported: 3 000 req/s with
 * it, 4 800 with its incoming side off, 6 200 with no tracing at all. Here an unsampled request costs a
 * span id and one `context.with`; attributes are only read for a recording span. Fastify has
 * routed by `onRequest`, so the span is named `GET /api/v1/devices/:id` from the start.
 *
 * The rest of the `onRequest` chain runs inside the span's context (Nest's middleware, the
 * gateway's cache fast path), and so does everything after it: Fastify runs body parsing and
 * the route handler in an `AsyncResource` made in that chain, so a handler that starts after a
 * slowly arriving body is still in the request's span (observability.int-spec.ts shows it).
 */
export function installServerSpans(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined && isProbeRoute(route)) {
      done();
      return;
    }
    const url = request.url;
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(
      route ? `${request.method} ${route}` : request.method,
      { kind: SpanKind.SERVER },
      parent,
    );
    if (span.isRecording()) {
      const q = url.indexOf('?');
      span.setAttributes({
        'http.request.method': request.method,
        'url.scheme': request.protocol,
        'url.path': q < 0 ? url : url.slice(0, q),
        ...(q >= 0 && { 'url.query': url.slice(q + 1) }),
        ...(route && { 'http.route': route }),
        'server.address': request.hostname,
        'client.address': request.ip,
        'network.protocol.version': request.raw.httpVersion,
        ...(request.headers['user-agent'] && { 'user_agent.original': request.headers['user-agent'] }),
      });
    }
    const ctx = trace.setSpan(parent, span);
    const traced = request as unknown as Traced;
    traced[SPAN] = span;
    traced[CONTEXT] = ctx;
    context.with(ctx, done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    end(request, undefined);
    done();
  });
}

/** Ends the request's span once: with its status code, or as aborted by the client. */
function end(request: FastifyRequest, status: number | undefined): void {
  const traced = request as unknown as Traced;
  const span = traced[SPAN];
  if (!span) return;
  traced[SPAN] = undefined;
  if (span.isRecording()) {
    if (status === undefined) {
      span.setAttribute('error.type', 'aborted');
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'client aborted the request' });
    } else {
      span.setAttribute('http.response.status_code', status);
      // Server spans: only 5xx is the server's error (4xx is the client's).
      if (status >= 500) {
        span.setAttribute('error.type', String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
  }
  span.end();
}
