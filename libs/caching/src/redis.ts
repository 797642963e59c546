import { Redis } from 'ioredis';

/**
 * An ioredis client suited to a cache (or anything with a local fallback): no offline queue and
 * no per-request retries, so calls fail at once while Redis is away instead of piling up;
 * reconnects in the background; auto-pipelining batches concurrent commands into one write.
 */
export function createCacheRedis(
  url: string,
  options: { commandTimeoutMs?: number; name?: string } = {},
): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 50,
    connectTimeout: 1_000,
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 1_000),
    connectionName: options.name,
  });
  // Failures surface as each command's rejection; without a listener ioredis logs every one.
  redis.on('error', () => undefined);
  return redis;
}
