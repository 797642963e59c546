export { TwoLevelCache } from './two-level-cache.js';
export type { CacheStats, GetOrSetOptions, SetOptions, TwoLevelCacheOptions } from './two-level-cache.js';
export { createCacheRedis } from './redis.js';
export { decode as decodeCacheEntry, isCompressed } from './codec.js';
export { globToRegExp } from './glob.js';
