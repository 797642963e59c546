import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { TwoLevelCache } from '@conduit/caching';
import { CoreBus } from '@conduit/messaging';
import { RESPONSE_CACHE } from './gateway-cache.module.js';
import { DEVICE_RECORD_SUBJECTS } from '@conduit/contracts';

/** A cached response body. */
export interface CachedResponse {
  readonly body: string;
  readonly type: string;
}

/**
 * The UTF-8 bytes of each cached body, made once per L1 entry (the entry object is stable while
 * it lives in L1): re-encoding a 16 KB string on every hit cost more than the lookup.
 */
const bytesOf = new WeakMap<CachedResponse, Buffer>();
export const bodyBytes = (entry: CachedResponse): Buffer => {
  let bytes = bytesOf.get(entry);
  if (!bytes) bytesOf.set(entry, (bytes = Buffer.from(entry.body)));
  return bytes;
};

/** One replica handles each event; its invalidation reaches the others' L1 over the cache's own broadcast. */
const QUEUE = 'gateway-response-cache';

/** Tags of device data: the org's lists, and one device. */
export const deviceTags = {
  list: (orgId: string) => `devices:${orgId}`,
  one: (orgId: string, deviceId: string) => `device:${orgId}:${deviceId}`,
};

/**
 * The response cache's keys and invalidation. Keys start with the org (`<org>|<path>?<query>`),
 * so no entry is ever shared between orgs, and admin patterns are confined to an org. Entries
 * are dropped by the DEVICE events of the data behind them — whoever wrote it — and by the
 * gateway's own writes before it answers, so a write is visible on the next read.
 */
@Injectable()
export class ResponseCacheService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ResponseCacheService.name);
  private unsubscribe: (() => void)[] = [];

  constructor(
    @Inject(RESPONSE_CACHE) readonly cache: TwoLevelCache,
    private readonly bus: CoreBus,
  ) {}

  onModuleInit(): void {
    // Core-NATS view of the DEVICE stream's record events (`device.<orgId>.<deviceId>.<event>`);
    // not `….state`, which comes with nearly every command and changes nothing cached.
    this.unsubscribe = DEVICE_RECORD_SUBJECTS.map((filter) =>
      this.bus.subscribe(
        filter,
        (_event, subject) => {
          const [, orgId, deviceId] = subject.split('.');
          if (orgId && deviceId) void this.invalidateDevice(orgId, deviceId);
        },
        { queue: QUEUE },
      ),
    );
  }

  onModuleDestroy(): void {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
  }

  /** `<org>|<path>?<query sorted by name, then value>`: the same resource under any parameter order. */
  static keyOf(orgId: string, url: string, vary: readonly string[] = []): string {
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    let key = `${orgId}|${path}`;
    if (q >= 0) {
      const params = [...new URLSearchParams(url.slice(q + 1))].filter(([, v]) => v !== '');
      params.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
      if (params.length) key += `?${new URLSearchParams(params).toString()}`;
    }
    if (vary.length) key += `|${vary.join('|')}`;
    return key;
  }

  async invalidateDevice(orgId: string, deviceId?: string): Promise<void> {
    const tags = [deviceTags.list(orgId)];
    if (deviceId) tags.push(deviceTags.one(orgId, deviceId));
    try {
      await this.cache.invalidateTags(...tags);
    } catch (error) {
      this.logger.warn(`invalidation of ${tags.join(', ')} failed: ${String(error)}`);
    }
  }

  /** Drops an org's entries whose `<path>?<query>` matches `pattern` (`*`, `?`), or all of them. */
  invalidateOrg(orgId: string, pattern = '*'): Promise<number> {
    return this.cache.invalidatePattern(`${orgId}|${pattern}`);
  }

  /** Drops every entry of every org (platform admins). */
  async clearAll(): Promise<void> {
    await this.cache.clear();
  }
}
