import { randomUUID } from 'node:crypto';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Registry } from 'prom-client';
import { decode, encode, isCompressed, type L2Envelope } from './codec.js';
import { escapeGlob, globToRegExp } from './glob.js';
import { registerCacheMetrics } from './cache.metrics.js';

export interface TwoLevelCacheOptions {
  /** Redis keys are `cache:<namespace>:…`; invalidations go out on `cache.invalidate.<namespace>`. */
  readonly namespace: string;
  /** L2; null or absent = L1 only. Pass a client that fails fast (see {@link createCacheRedis}). */
  readonly redis?: Redis | null;
  /** Drops L1 entries on the other replicas when this one invalidates. */
  readonly nats?: NatsConnection | null;
  /** L1 bounds (default 10 000 entries, 64 MiB of serialised values). */
  readonly l1?: { readonly maxEntries?: number; readonly maxBytes?: number };
  readonly defaultTtlMs?: number;
  /** Fraction of the TTL added at random so that entries set together do not expire together (0.1). */
  readonly jitter?: number;
  /** L2 values whose JSON is longer are deflated (1 KiB). */
  readonly compressThresholdBytes?: number;
  /** An L2 call slower than this is abandoned as a miss (50 ms). */
  readonly redisTimeoutMs?: number;
  /** How long a replica holds the fill lease of a key, and how long the others wait for its value. */
  readonly lease?: { readonly ttlMs?: number; readonly waitMs?: number };
  /** prom-client registry for `conduit_cache_*` metrics. */
  readonly registry?: Registry;
}

export interface GetOrSetOptions {
  readonly ttlMs?: number;
  readonly tags?: readonly string[];
  /** Stale-if-error: after the TTL the value is kept this long and served when the loader fails. */
  readonly graceMs?: number;
  /** With a stale value at hand, a loader slower than this is not awaited: the stale value is served and the loader's result stored when it comes. */
  readonly softTimeoutMs?: number;
  /** Keep the value in this process only. */
  readonly l1Only?: boolean;
}

export interface SetOptions {
  readonly ttlMs?: number;
  readonly tags?: readonly string[];
  readonly graceMs?: number;
  readonly l1Only?: boolean;
}

export interface CacheStats {
  readonly namespace: string;
  readonly l1: {
    readonly items: number;
    readonly bytes: number;
    readonly hits: number;
    readonly misses: number;
    readonly sets: number;
    readonly evictions: number;
    readonly hitRatio: number;
  };
  readonly l2: {
    readonly enabled: boolean;
    readonly connected: boolean;
    readonly hits: number;
    readonly misses: number;
    readonly sets: number;
    readonly errors: number;
    readonly hitRatio: number;
  };
  readonly singleFlight: { readonly coalesced: number; readonly leaseWaits: number };
}

interface L1Entry {
  readonly value: unknown;
  /** Epoch ms at which the entry turns stale. */
  readonly expires: number;
  /** Epoch ms until which a stale entry may still be served on loader failure. */
  readonly staleUntil: number;
  readonly size: number;
  readonly tags?: readonly string[];
}

interface Invalidation {
  readonly o: string;
  readonly k?: readonly string[];
  readonly t?: readonly string[];
  readonly p?: string;
  readonly c?: true;
}

// Deletes every key of the given tag sets and the sets themselves; returns how many keys went.
const INVALIDATE_TAGS_LUA = `
local n = 0
for i = 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members, 500 do
    n = n + redis.call('UNLINK', unpack(members, j, math.min(j + 499, #members)))
  end
  redis.call('UNLINK', KEYS[i])
end
return n
`;

/**
 * Wall-clock time in ms, read at most once per millisecond of event-loop time (as lru-cache's
 * `ttlResolution`): a Date.now() per L1 hit costs more than the lookup itself.
 */
let cachedNow = 0;
let clockTimer: NodeJS.Timeout | undefined;
function now(): number {
  if (clockTimer === undefined) {
    cachedNow = Date.now();
    clockTimer = setTimeout(() => {
      clockTimer = undefined;
    }, 1);
    clockTimer.unref();
  }
  return cachedNow;
}

// A miss's first L2 step in one round trip: the stored value if there is one, else an attempt
// at the fill lease. Returns { value } or { false, 1 } (lease taken) or { false, 0 } (held).
const GET_OR_LEASE_LUA = `
local v = redis.call('GET', KEYS[1])
if v then return { v } end
if redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2], 'NX') then return { false, 1 } end
return { false, 0 }
`;

type ScriptedRedis = Redis & {
  conduitCacheInvalidateTags(numKeys: number, ...keys: string[]): Promise<number>;
  conduitCacheGetOrLeaseBuffer(
    numKeys: number,
    valueKey: string,
    leaseKey: string,
    token: string,
    leaseTtlMs: number,
  ): Promise<[Buffer | null, number?]>;
};

/**
 * A two-level cache: L1 in process (lru-cache, bounded by entries and bytes) over L2 in Redis,
 * shared by replicas. `getOrSet` runs the loader once per key under concurrent misses in a
 * process, and once across replicas while a short Redis lease is held. Invalidation by key, tag,
 * pattern or all reaches the other replicas' L1 over NATS. Redis trouble never reaches the
 * caller: L2 calls are bounded by `redisTimeoutMs` and fall back to L1 and the loader.
 */
export class TwoLevelCache {
  readonly namespace: string;
  readonly instanceId = randomUUID();
  private readonly l1: LRUCache<string, L1Entry>;
  private readonly tagIndex = new Map<string, Set<string>>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** L2 writes of loaded values still under way (awaited by {@link close}). */
  private readonly writes = new Set<Promise<void>>();
  private readonly redis: ScriptedRedis | null;
  /** The client bounds each command itself (`commandTimeout` at most `redisTimeoutMs`). */
  private readonly clientTimesOut: boolean;
  private readonly nats: NatsConnection | null;
  private sub?: Subscription;
  private readonly prefix: string;
  private readonly subject: string;
  private readonly defaultTtlMs: number;
  private readonly jitter: number;
  private readonly threshold: number;
  private readonly redisTimeoutMs: number;
  private readonly leaseTtlMs: number;
  private readonly leaseWaitMs: number;
  private readonly counts = {
    l1Hits: 0,
    l1Misses: 0,
    l1Sets: 0,
    evictions: 0,
    l2Hits: 0,
    l2Misses: 0,
    l2Sets: 0,
    l2Errors: 0,
    coalesced: 0,
    leaseWaits: 0,
  };

  constructor(options: TwoLevelCacheOptions) {
    this.namespace = options.namespace;
    this.prefix = `cache:${options.namespace}:`;
    this.subject = `cache.invalidate.${options.namespace}`;
    this.redis = (options.redis as ScriptedRedis | null | undefined) ?? null;
    this.nats = options.nats ?? null;
    this.defaultTtlMs = options.defaultTtlMs ?? 60_000;
    this.jitter = options.jitter ?? 0.1;
    this.threshold = options.compressThresholdBytes ?? 1024;
    this.redisTimeoutMs = options.redisTimeoutMs ?? 50;
    const clientTimeout = this.redis?.options.commandTimeout;
    this.clientTimesOut =
      clientTimeout !== undefined && clientTimeout > 0 && clientTimeout <= this.redisTimeoutMs;
    this.leaseTtlMs = options.lease?.ttlMs ?? 5_000;
    this.leaseWaitMs = options.lease?.waitMs ?? 1_000;
    this.l1 = new LRUCache<string, L1Entry>({
      max: options.l1?.maxEntries ?? 10_000,
      maxSize: options.l1?.maxBytes ?? 64 * 1024 * 1024,
      sizeCalculation: (entry) => entry.size,
      dispose: (entry, key, reason) => {
        if (reason === 'evict') this.counts.evictions++;
        if (entry.tags) this.untag(key, entry.tags);
      },
    });
    if (this.redis && typeof this.redis.conduitCacheInvalidateTags !== 'function') {
      this.redis.defineCommand('conduitCacheInvalidateTags', { lua: INVALIDATE_TAGS_LUA });
    }
    if (this.redis && typeof this.redis.conduitCacheGetOrLeaseBuffer !== 'function') {
      this.redis.defineCommand('conduitCacheGetOrLease', { lua: GET_OR_LEASE_LUA });
    }
    if (options.registry) registerCacheMetrics(options.registry, this);
  }

  /** Listens for other replicas' invalidations. */
  async start(): Promise<void> {
    if (!this.nats || this.sub) return;
    this.sub = this.nats.subscribe(this.subject, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const m = msg.json<Invalidation>();
          if (m.o !== this.instanceId) this.applyLocal(m);
        } catch {
          // Not an invalidation message.
        }
      },
    });
    await this.nats.flush();
  }

  async close(): Promise<void> {
    await Promise.all(this.writes);
    this.sub?.unsubscribe();
    this.sub = undefined;
    this.l1.clear();
  }

  /** A fresh L1 value, synchronously; undefined on a miss (nothing counted). */
  peek<T>(key: string): T | undefined {
    const entry = this.l1.get(key);
    if (entry !== undefined && entry.expires > now()) {
      this.counts.l1Hits++;
      return entry.value as T;
    }
    return undefined;
  }

  getOrSet<T>(key: string, loader: () => Promise<T>, options: GetOrSetOptions = {}): Promise<T> {
    const entry = this.l1.get(key);
    if (entry !== undefined && entry.expires > now()) {
      this.counts.l1Hits++;
      return Promise.resolve(entry.value as T);
    }
    const pending = this.inflight.get(key);
    if (pending) {
      this.counts.coalesced++;
      return pending as Promise<T>;
    }
    this.counts.l1Misses++;
    const fill = this.fill(key, loader, options, entry).finally(() => this.inflight.delete(key));
    this.inflight.set(key, fill);
    return fill;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const hit = this.peek<T>(key);
    if (hit !== undefined) return hit;
    this.counts.l1Misses++;
    const found = await this.l2Get<T>(key);
    if (!found || found.e <= Date.now()) return undefined;
    this.setL1(key, found.v, found.e - Date.now(), 0, found.t, found.size);
    return found.v;
  }

  async set<T>(key: string, value: T, options: SetOptions = {}): Promise<void> {
    const ttl = this.ttlWithJitter(options.ttlMs);
    const grace = options.graceMs ?? 0;
    const size = this.setL1(key, value, ttl, grace, options.tags);
    if (!options.l1Only) await this.l2Set(key, value, ttl, grace, options.tags, size);
  }

  async delete(...keys: string[]): Promise<void> {
    if (!keys.length) return;
    for (const key of keys) this.l1.delete(key);
    this.broadcast({ o: this.instanceId, k: keys });
    await this.l2((r) => r.unlink(...keys.map((k) => this.prefix + 'v:' + k)));
  }

  async invalidateTags(...tags: string[]): Promise<number> {
    if (!tags.length) return 0;
    let removed = this.dropTagsLocally(tags);
    this.broadcast({ o: this.instanceId, t: tags });
    const l2 = await this.l2((r) =>
      r.conduitCacheInvalidateTags(tags.length, ...tags.map((t) => this.prefix + 't:' + t)),
    );
    if (typeof l2 === 'number') removed = Math.max(removed, l2);
    return removed;
  }

  /** Drops keys matching `glob` (`*`, `?`) in both layers and on every replica; L2 through SCAN. */
  async invalidatePattern(glob: string): Promise<number> {
    let removed = this.dropPatternLocally(glob);
    this.broadcast({ o: this.instanceId, p: glob });
    const redis = this.redis;
    if (redis && redis.status === 'ready') {
      let l2 = 0;
      try {
        const match = escapeGlob(this.prefix + 'v:') + glob;
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
          cursor = next;
          if (keys.length) l2 += await redis.unlink(...keys);
        } while (cursor !== '0');
        removed = Math.max(removed, l2);
      } catch {
        this.counts.l2Errors++;
      }
    }
    return removed;
  }

  async clear(): Promise<void> {
    this.l1.clear();
    this.tagIndex.clear();
    this.broadcast({ o: this.instanceId, c: true });
    const redis = this.redis;
    if (redis && redis.status === 'ready') {
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(
            cursor,
            'MATCH',
            escapeGlob(this.prefix) + '*',
            'COUNT',
            1000,
          );
          cursor = next;
          if (keys.length) await redis.unlink(...keys);
        } while (cursor !== '0');
      } catch {
        this.counts.l2Errors++;
      }
    }
  }

  stats(): CacheStats {
    const c = this.counts;
    const ratio = (hits: number, misses: number) =>
      hits + misses === 0 ? 0 : Math.round((hits / (hits + misses)) * 10_000) / 10_000;
    return {
      namespace: this.namespace,
      l1: {
        items: this.l1.size,
        bytes: this.l1.calculatedSize,
        hits: c.l1Hits,
        misses: c.l1Misses,
        sets: c.l1Sets,
        evictions: c.evictions,
        hitRatio: ratio(c.l1Hits, c.l1Misses),
      },
      l2: {
        enabled: this.redis !== null,
        connected: this.redis?.status === 'ready',
        hits: c.l2Hits,
        misses: c.l2Misses,
        sets: c.l2Sets,
        errors: c.l2Errors,
        hitRatio: ratio(c.l2Hits, c.l2Misses),
      },
      singleFlight: { coalesced: c.coalesced, leaseWaits: c.leaseWaits },
    };
  }

  // --- filling ---------------------------------------------------------------------------

  private async fill<T>(
    key: string,
    loader: () => Promise<T>,
    options: GetOrSetOptions,
    l1Entry: L1Entry | undefined,
  ): Promise<T> {
    const now = Date.now();
    let stale: { value: T } | undefined =
      l1Entry !== undefined && l1Entry.staleUntil > now ? { value: l1Entry.value as T } : undefined;
    const useL2 = !options.l1Only && this.redis !== null;
    // undefined: not asked yet (or Redis failed); true/false: whether the lookup took the lease.
    let leased: boolean | undefined;
    if (useL2) {
      const found = await this.l2GetOrLease<T>(key);
      if (found?.value) {
        const left = found.value.e - Date.now();
        if (left > 0) {
          const v = found.value;
          this.setL1(key, v.v, left, options.graceMs ?? 0, v.t ?? options.tags, v.size);
          return v.v;
        }
        stale ??= { value: found.value.v };
      } else if (found) leased = found.leased;
    }
    const load = useL2
      ? this.loadWithLease(key, loader, options, leased)
      : this.loadAndStore(key, loader, options);
    if (stale) {
      const fallback = stale.value;
      if (options.softTimeoutMs !== undefined) {
        load.catch(() => undefined); // still running in the background; its failure is not the caller's
        return raceSoft(load, options.softTimeoutMs, fallback);
      }
      return load.catch(() => fallback);
    }
    return load;
  }

  private async loadAndStore<T>(key: string, loader: () => Promise<T>, options: GetOrSetOptions): Promise<T> {
    const value = await loader();
    this.writeBehind(this.set(key, value, options));
    return value;
  }

  /**
   * A loaded value is answered once it is in L1 and its L2 write has been issued, without waiting
   * for Redis's reply: the write cannot fail the caller (L2 errors are only counted), and later
   * commands on the connection — an invalidation — are queued behind it. One round trip less on
   * every miss (the llm runs' path: loader, then SET + lease DEL).
   */
  private writeBehind(write: Promise<void>): void {
    const tracked: Promise<void> = write
      .catch(() => {
        this.counts.l2Errors++; // a value L2 cannot take (encoding failed): L1 holds it
      })
      .finally(() => this.writes.delete(tracked));
    this.writes.add(tracked);
  }

  /**
   * Loads under a Redis lease so that one replica fills a hot key while the others poll L2 for
   * its value; a replica that waited `leaseWaitMs` in vain loads itself (the holder may have died).
   */
  private async loadWithLease<T>(
    key: string,
    loader: () => Promise<T>,
    options: GetOrSetOptions,
    leased?: boolean,
  ): Promise<T> {
    const leaseKey = this.prefix + 'l:' + key;
    // Known from the lookup, unless that found a stale value or failed: then asked here.
    let lease: 'taken' | 'held' | 'none';
    if (leased !== undefined) lease = leased ? 'taken' : 'held';
    else {
      const reply = await this.l2((r) => r.set(leaseKey, this.instanceId, 'PX', this.leaseTtlMs, 'NX'));
      lease = reply === 'OK' ? 'taken' : reply === null ? 'held' : 'none';
    }
    // Redis unavailable: no lease to take, load here.
    if (lease === 'none') return this.loadAndStore(key, loader, options);
    if (lease === 'held') {
      this.counts.leaseWaits++;
      const deadline = Date.now() + this.leaseWaitMs;
      let delay = 5;
      while (Date.now() < deadline) {
        await sleep(delay);
        delay = Math.min(delay * 2, 50);
        const found = await this.l2Get<T>(key);
        if (found && found.e > Date.now()) {
          this.setL1(
            key,
            found.v,
            found.e - Date.now(),
            options.graceMs ?? 0,
            found.t ?? options.tags,
            found.size,
          );
          return found.v;
        }
      }
      return this.loadAndStore(key, loader, options);
    }
    let value: T;
    try {
      value = await loader();
    } catch (error) {
      void this.l2((r) => r.del(leaseKey));
      throw error;
    }
    // The value's SET and the lease's DEL leave in one pipelined write (issued in one tick).
    this.writeBehind(this.set(key, value, options));
    void this.l2((r) => r.del(leaseKey));
    return value;
  }

  // --- L1 ----------------------------------------------------------------------------------

  private setL1(
    key: string,
    value: unknown,
    ttlMs: number,
    graceMs: number,
    tags: readonly string[] | undefined,
    knownSize?: number,
  ): number {
    const size = knownSize ?? sizeOf(value);
    const at = Date.now();
    const entry: L1Entry = { value, expires: at + ttlMs, staleUntil: at + ttlMs + graceMs, size, tags };
    const previous = this.l1.peek(key);
    if (previous?.tags) this.untag(key, previous.tags);
    this.l1.set(key, entry, { ttl: ttlMs + graceMs });
    this.counts.l1Sets++;
    if (tags?.length && this.l1.has(key)) {
      for (const tag of tags) {
        let keys = this.tagIndex.get(tag);
        if (!keys) this.tagIndex.set(tag, (keys = new Set()));
        keys.add(key);
      }
    }
    return size;
  }

  private untag(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.tagIndex.get(tag);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.tagIndex.delete(tag);
    }
  }

  private dropTagsLocally(tags: readonly string[]): number {
    let removed = 0;
    for (const tag of tags) {
      const keys = this.tagIndex.get(tag);
      if (!keys) continue;
      for (const key of [...keys]) if (this.l1.delete(key)) removed++;
      this.tagIndex.delete(tag);
    }
    return removed;
  }

  private dropPatternLocally(glob: string): number {
    const re = globToRegExp(glob);
    let removed = 0;
    for (const key of [...this.l1.keys()]) if (re.test(key) && this.l1.delete(key)) removed++;
    return removed;
  }

  private applyLocal(m: Invalidation): void {
    if (m.c) {
      this.l1.clear();
      this.tagIndex.clear();
      return;
    }
    if (m.k) for (const key of m.k) this.l1.delete(key);
    if (m.t) this.dropTagsLocally(m.t);
    if (typeof m.p === 'string') this.dropPatternLocally(m.p);
  }

  private broadcast(m: Invalidation): void {
    const nats = this.nats;
    if (!nats || nats.isClosed()) return;
    try {
      nats.publish(this.subject, JSON.stringify(m));
    } catch {
      // Disconnected: the other replicas' entries expire with their TTL.
    }
  }

  // --- L2 ----------------------------------------------------------------------------------

  private async l2Get<T>(key: string): Promise<(L2Envelope<T> & { size: number }) | undefined> {
    const raw = await this.l2((r) => r.getBuffer(this.prefix + 'v:' + key));
    if (!raw) {
      if (raw === null) this.counts.l2Misses++;
      return undefined;
    }
    return this.readL2<T>(raw);
  }

  /** A stored value's envelope, counted as an L2 hit; undefined (an error) when unreadable. */
  private readL2<T>(raw: Buffer): (L2Envelope<T> & { size: number }) | undefined {
    try {
      const envelope = decode<T>(raw);
      this.counts.l2Hits++;
      // The stored length stands in for the value's size (no second serialisation).
      return { ...envelope, size: raw.length * (isCompressed(raw) ? 4 : 1) };
    } catch {
      this.counts.l2Errors++;
      return undefined;
    }
  }

  /** The stored value, or else whether this call took the fill lease; undefined when Redis failed. */
  private async l2GetOrLease<T>(
    key: string,
  ): Promise<{ value?: L2Envelope<T> & { size: number }; leased: boolean } | undefined> {
    const reply = await this.l2((r) =>
      r.conduitCacheGetOrLeaseBuffer(
        2,
        this.prefix + 'v:' + key,
        this.prefix + 'l:' + key,
        this.instanceId,
        this.leaseTtlMs,
      ),
    );
    if (!reply) return undefined;
    const [raw, leased] = reply;
    if (!raw) {
      this.counts.l2Misses++;
      return { leased: leased === 1 };
    }
    const value = this.readL2<T>(raw);
    // Unreadable: treated as absent, the lease is asked for separately.
    return value ? { value, leased: false } : undefined;
  }

  private async l2Set(
    key: string,
    value: unknown,
    ttlMs: number,
    graceMs: number,
    tags: readonly string[] | undefined,
    _size: number,
  ): Promise<void> {
    if (!this.redis) return;
    const storedKey = this.prefix + 'v:' + key;
    const pxMs = Math.max(1, Math.ceil(ttlMs + graceMs));
    const payload = encode(
      { v: value, e: Date.now() + ttlMs, ...(tags?.length ? { t: tags } : {}) },
      this.threshold,
    );
    const ok = await this.l2(async (redis) => {
      if (!tags?.length) return redis.set(storedKey, payload, 'PX', pxMs);
      const multi = redis.multi().set(storedKey, payload, 'PX', pxMs);
      for (const tag of tags) {
        const tagKey = this.prefix + 't:' + tag;
        // The set lives as long as its longest-lived key: NX sets a first expiry, GT only extends it.
        multi.sadd(tagKey, storedKey).pexpire(tagKey, pxMs, 'NX').pexpire(tagKey, pxMs, 'GT');
      }
      return multi.exec();
    });
    if (ok !== undefined) this.counts.l2Sets++;
  }

  /** Runs an L2 call bounded by `redisTimeoutMs`; any failure is counted and becomes undefined. */
  private async l2<R>(call: (redis: ScriptedRedis) => Promise<R>): Promise<R | undefined> {
    const redis = this.redis;
    if (!redis || redis.status !== 'ready') return undefined;
    if (this.clientTimesOut) {
      // ioredis's own commandTimeout bounds the call: no timer of ours per call.
      try {
        return await call(redis);
      } catch {
        this.counts.l2Errors++;
        return undefined;
      }
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        call(redis),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('redis timeout')), this.redisTimeoutMs);
        }),
      ]);
    } catch {
      this.counts.l2Errors++;
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private ttlWithJitter(ttlMs: number | undefined): number {
    const base = ttlMs ?? this.defaultTtlMs;
    return base + Math.floor(Math.random() * base * this.jitter);
  }
}

/** The loader's result, or `fallback` when the loader takes longer than `ms` (or fails). */
async function raceSoft<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work.catch(() => fallback),
      new Promise<T>((resolve) => {
        timer = setTimeout(() => resolve(fallback), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Approximate bytes of a value: string length, or the JSON length of anything else. */
function sizeOf(value: unknown): number {
  if (typeof value === 'string') return value.length + 16;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return 16;
  try {
    return (JSON.stringify(value)?.length ?? 0) + 16;
  } catch {
    return 1024;
  }
}
