import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { addEarlyRequestHook, REQUEST_ID_HEADER } from '@conduit/observability';
import { Counter, register } from 'prom-client';
import { keyFromHeaders } from '../identity/api-key.js';
import { IdentityService } from '../identity/identity.service.js';
import { rateLimited } from '../rate-limit/rate-limit.guard.js';
import { RateLimitService } from '../rate-limit/rate-limit.service.js';
import { bodyBytes, ResponseCacheService, type CachedResponse } from './response-cache.service.js';

const fastPathAnswers =
  (register.getSingleMetric('conduit_gateway_cache_fast_path_total') as Counter<'result'> | undefined) ??
  new Counter({
    name: 'conduit_gateway_cache_fast_path_total',
    help: 'Response-cache hits answered before Nest’s router, by result (hit|limited)',
    labelNames: ['result'] as const,
  });

/**
 * Serves response-cache hits from a Fastify `onRequest` hook, before Nest's router, guards and
 * interceptors: the same checks in the same order — a key whose principal is fresh in memory
 * (GET needs only `viewer`, which every role is), the caller's rate limits (headers, 429), an
 * L1 entry under the same key the interceptor writes — and the same answer (`X-Cache: HIT`).
 * Anything else (no key, a key not in memory, a miss, `Cache-Control: no-cache`, other
 * methods) falls through to Nest untouched, which decides as before. Entries exist only for
 * routes marked `@CacheResponse`, so a hit implies the route is cacheable; routes with `vary`
 * headers never hit here (their keys carry the header values). Measured: the cached device list
 * goes from ≈ 4 000 to ≈ 5 500 req/s in the gateway-cached bench (docs/benchmarks.md).
 */
@Injectable()
export class CachedResponseFastPath implements OnApplicationBootstrap {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly identity: IdentityService,
    private readonly limiter: RateLimitService,
    private readonly responses: ResponseCacheService,
  ) {}

  // Ahead of Nest's middleware (pino-http's per-request child logger and context, ≈ 4 % of the
  // gateway's CPU on this path): a hit needs none of it. Because it runs before the
  // observability hooks' onRequest, it sets `x-request-id` itself; their onSend/onResponse hooks
  // (timing headers, metrics, the request log line) still run for every answer it sends.
  onApplicationBootstrap(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (typeof fastify?.addHook !== 'function') return;
    const hook = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
      const hit = request.method === 'GET' ? this.lookup(request) : undefined;
      if (!hit) {
        done();
        return;
      }
      void reply.header(REQUEST_ID_HEADER, request.id);
      this.limiter.admit(hit.principal, reply).then(
        (decision) => {
          fastPathAnswers.inc({ result: decision.allowed ? 'hit' : 'limited' });
          if (!decision.allowed) {
            const error = rateLimited(decision.retryAfterS);
            void send(
              reply.code(429),
              'application/json; charset=utf-8',
              JSON.stringify({ error: { code: error.code, message: error.message } }),
            );
            return;
          }
          void send(reply.header('x-cache', 'HIT'), hit.entry.type, bodyBytes(hit.entry));
        },
        (error: unknown) => done(error as Error),
      );
    };
    // Not made by createHttpService (a bare test app): an ordinary hook, after the others.
    if (!addEarlyRequestHook(fastify, hook)) fastify.addHook('onRequest', hook);
  }

  private lookup(
    request: FastifyRequest,
  ): { principal: NonNullable<ReturnType<IdentityService['peek']>>; entry: CachedResponse } | undefined {
    const cacheControl = request.headers['cache-control'];
    if (cacheControl && /no-cache|no-store/i.test(cacheControl)) return undefined;
    const key = keyFromHeaders(request.headers);
    if (!key) return undefined;
    const principal = this.identity.peek(key);
    if (!principal) return undefined;
    const entry = this.responses.cache.peek<CachedResponse>(
      ResponseCacheService.keyOf(principal.orgId, request.url),
    );
    return entry ? { principal, entry } : undefined;
  }
}

const send = (reply: FastifyReply, type: string, body: string | Buffer) =>
  reply.header('content-type', type).send(body);
