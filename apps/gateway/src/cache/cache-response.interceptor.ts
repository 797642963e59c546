import {
  applyDecorators,
  Injectable,
  SetMetadata,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { lastValueFrom, of, type Observable } from 'rxjs';
import type { AuthenticatedRequest } from '../identity/auth.guard.js';
import type { Principal } from '../identity/principal.js';
import { bodyBytes, ResponseCacheService, type CachedResponse } from './response-cache.service.js';

const CACHE_ROUTE = 'conduit:cache-route';

const JSON_TYPE = 'application/json; charset=utf-8';

/** How one route's responses are cached. */
export interface CacheRouteOptions {
  /** Default: GATEWAY_CACHE_TTL_MS. */
  readonly ttlMs?: number;
  /** Tags of the data behind the response; an event touching that data drops the entry. */
  readonly tags: (principal: Principal, params: Record<string, string>) => string[];
  /** Request headers whose value changes the response (part of the key). */
  readonly vary?: readonly string[];
}

/**
 * Caches the route's 200 responses per org, path and normalised query. Answers carry
 * `X-Cache: HIT|MISS|BYPASS`; `Cache-Control: no-cache` (or `no-store`) from the client
 * bypasses the cache. Concurrent misses of one key run the handler once (the cache's single flight).
 * Must come after `@Authenticated()`: the key starts with the caller's org.
 */
export const CacheResponse = (options: CacheRouteOptions) =>
  applyDecorators(
    SetMetadata(CACHE_ROUTE, options),
    UseInterceptors(ResponseCacheInterceptor),
    ApiHeader({
      name: 'cache-control',
      required: false,
      description: '`no-cache` bypasses the response cache',
    }),
  );

@Injectable()
export class ResponseCacheInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly responses: ResponseCacheService,
  ) {}

  async intercept(ctx: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const options = this.reflector.get<CacheRouteOptions | undefined>(CACHE_ROUTE, ctx.getHandler());
    const http = ctx.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const reply = http.getResponse<FastifyReply>();
    const principal = request.principal;
    if (!options || !principal || request.method !== 'GET') return next.handle();
    const cacheControl = request.headers['cache-control'];
    if (cacheControl && /no-cache|no-store/i.test(cacheControl)) {
      void reply.header('x-cache', 'BYPASS');
      return next.handle();
    }
    const vary = (options.vary ?? []).map((h) => String(request.headers[h] ?? ''));
    const key = ResponseCacheService.keyOf(principal.orgId, request.url, vary);
    const cache = this.responses.cache;
    let entry = cache.peek<CachedResponse>(key);
    let status = 'HIT';
    if (!entry) {
      entry = await cache.getOrSet<CachedResponse>(
        key,
        async () => {
          status = 'MISS';
          const body = await lastValueFrom(next.handle());
          const type = reply.getHeader('content-type');
          return {
            body: typeof body === 'string' ? body : JSON.stringify(body),
            type: typeof type === 'string' ? type : JSON_TYPE,
          };
        },
        {
          ttlMs: options.ttlMs,
          tags: options.tags(principal, (request.params ?? {}) as Record<string, string>),
        },
      );
    }
    void reply.header('x-cache', status).header('content-type', entry.type);
    return of(bodyBytes(entry));
  }
}
