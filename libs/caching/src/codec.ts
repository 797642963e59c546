import { deflateRawSync, inflateRawSync, constants } from 'node:zlib';

/** What L2 holds for a key: the value, the time (epoch ms) it turns stale, and its tags. */
export interface L2Envelope<T = unknown> {
  readonly v: T;
  readonly e: number;
  /** Tags, so that a replica filling its L1 from L2 can drop the entry on a tag invalidation. */
  readonly t?: readonly string[];
}

const RAW = 0x00;
const DEFLATE = 0x01;

/**
 * L2 wire format: one marker byte, then the JSON of the envelope — deflated when longer than
 * `threshold` bytes. Deflate (raw, level 1) rather than brotli or gzip: on JSON it gets most of
 * the size back at a fraction of brotli's cost, and needs no header; values are small enough
 * that the synchronous call is cheaper than a round trip to libuv's thread pool.
 */
export function encode(envelope: L2Envelope, threshold: number): Buffer {
  const json = Buffer.from(JSON.stringify(envelope));
  if (json.length <= threshold) return Buffer.concat([Buffer.of(RAW), json]);
  const packed = deflateRawSync(json, { level: constants.Z_BEST_SPEED });
  return Buffer.concat([Buffer.of(DEFLATE), packed]);
}

export function decode<T>(raw: Buffer): L2Envelope<T> {
  const marker = raw[0];
  const body = raw.subarray(1);
  if (marker === DEFLATE) return JSON.parse(inflateRawSync(body).toString()) as L2Envelope<T>;
  if (marker === RAW) return JSON.parse(body.toString()) as L2Envelope<T>;
  throw new Error(`unknown cache entry encoding ${String(marker)}`);
}

/** True when a stored value is compressed (for tests and stats). */
export const isCompressed = (raw: Buffer): boolean => raw[0] === DEFLATE;
