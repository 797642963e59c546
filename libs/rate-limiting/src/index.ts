export { decide, LocalBucket, localShare, TOKEN_BUCKET_LUA } from './token-bucket.js';
export type { Bucket, BucketLevel, BucketLimit, RateDecision } from './token-bucket.js';
export { DistributedTokenBucket } from './distributed-token-bucket.js';
export type {
  DistributedTokenBucketOptions,
  LimiterMode,
  LimiterStatus,
} from './distributed-token-bucket.js';
