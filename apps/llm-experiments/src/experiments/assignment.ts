const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text` (Fowler–Noll–Vo; IETF draft-eastlake-fnv). */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}

/**
 * Where a unit falls in [0, 1): FNV-1a of `<seed>:<unitId>`, hashed a second time over its decimal
 * form (GrowthBook's hashing v2 does the same: one FNV-1a round of similar ids — `user-1`,
 * `user-2`… — differs mostly in the low bits, the second round spreads them), then the top of
 * the 32-bit range is mapped to [0, 1) with 10 000 buckets.
 */
export function bucketOf(seed: string, unitId: string): number {
  return (fnv1a32(String(fnv1a32(`${seed}:${unitId}`))) % 10_000) / 10_000;
}

/** A variant's share of traffic (any positive numbers; they are normalised). */
export interface Weighted {
  readonly key: string;
  readonly weight: number;
}

/**
 * The variant a unit gets: the weights are laid out as consecutive ranges of [0, 1) in the order
 * given, and the unit's {@link bucketOf} picks one. Pure: the same seed, unit and variants give
 * the same answer on every replica and after every restart (nothing is stored to make it sticky).
 */
export function assignVariant<V extends Weighted>(seed: string, unitId: string, variants: readonly V[]): V {
  if (variants.length === 0) throw new RangeError('no variants to assign');
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  const bucket = bucketOf(seed, unitId) * total;
  let upper = 0;
  for (const variant of variants) {
    upper += variant.weight;
    if (bucket < upper) return variant;
  }
  return variants[variants.length - 1] as V; // rounding at the very top of the range
}
