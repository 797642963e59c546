import { Redis } from 'ioredis';

/**
 * An ioredis client suited to a cache (or anything with a local fallback): no offline queue and
 * no per-request retries, so calls fail at once while Redis is away instead of piling up;
 * reconnects in the background.
 *
 * No auto-pipelining: with it ioredis builds a `Pipeline` (≈ 2 KB, and every defined script's
 * command bound onto it) for each tick's commands, and at a request's pace that is one per
 * command. In the llm bench (200 runs/s) those were the largest source of objects promoted out
 * of the young generation in the gateway (11 MB in 30 s from the rate-limit script); its
 * scavenges took 6–12 ms and the overhead p95 was over 5 ms in 4 of 19 runs. Without it: 2.84–5.20
 * ms, over 5 in 1 of 12, the gateway's scavenges 45–70 ms a run instead of 98. Under load Node's socket
 * still coalesces queued commands into one `writev`; the device-list bench (64 connections,
 * every request a rate-limit call) measured 933–972 req/s without and 933–964 with it.
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
    enableAutoPipelining: false,
    retryStrategy: (attempt) => Math.min(attempt * 200, 1_000),
    connectionName: options.name,
  });
  // Failures surface as each command's rejection; without a listener ioredis logs every one.
  redis.on('error', () => undefined);
  return redis;
}
