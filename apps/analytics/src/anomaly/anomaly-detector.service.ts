/** Tuning of the streaming detector (from config). */
export interface DetectorOptions {
  /** EWMA weight of a new point (0 < alpha < 1); 0.01 ≈ a memory of the last ~100 points. */
  readonly alpha: number;
  /** Points a series needs before it is scored. */
  readonly warmup: number;
  /** |z| at or above this is a `spike`. */
  readonly zThreshold: number;
  /** CUSUM slack per point, in σ (shifts smaller than this are ignored). */
  readonly cusumK: number;
  /** CUSUM decision level, in σ: a `drift` once the cumulated excess passes it. */
  readonly cusumH: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = {
  alpha: 0.01,
  warmup: 30,
  zThreshold: 5,
  cusumK: 0.5,
  cusumH: 12,
};

/** Running statistics of one (org, device, metric) series. Plain JSON: persisted as it is. */
export interface DetectorState {
  /** Points seen (capped once past warm-up; only `n < warmup` matters). */
  n: number;
  mean: number;
  variance: number;
  /** One-sided CUSUMs of the standardised residual, upward and downward. */
  up: number;
  down: number;
}

export interface Scored {
  readonly kind: 'spike' | 'drift';
  readonly score: number;
  readonly expected: number;
  readonly low: number;
  readonly high: number;
}

// Points beyond this many σ move the statistics only as far as a point at this distance would:
// one spike cannot inflate the variance enough to hide the next one.
const WINSOR_SIGMA = 3;

export const newDetectorState = (): DetectorState => ({ n: 0, mean: 0, variance: 0, up: 0, down: 0 });

/**
 * Streaming anomaly detector per series: an exponentially weighted mean and variance (winsorised
 * updates, so outliers barely move them) score each point as z = (value − mean) / σ. A point with
 * |z| ≥ `zThreshold` is a **spike**; slow changes that stay under it are caught by a two-sided
 * CUSUM of z (slack `cusumK`, level `cusumH`) as a **drift**, after which the baseline restarts
 * from the new level. Pure and synchronous: the consumer owns persistence.
 */
export class AnomalyDetectorService {
  constructor(readonly options: DetectorOptions = DEFAULT_DETECTOR_OPTIONS) {}

  /** Scores `value` against `state`, then updates `state` in place. Undefined: a normal point. */
  observe(state: DetectorState, value: number): Scored | undefined {
    const { alpha, warmup, zThreshold, cusumK, cusumH } = this.options;
    if (state.n < warmup) {
      // Warm-up: plain running mean and variance (Welford), so the EWMA starts from a sane baseline.
      state.n++;
      const delta = value - state.mean;
      state.mean += delta / state.n;
      state.variance += (delta * (value - state.mean) - state.variance) / state.n;
      return undefined;
    }
    const sd = Math.max(Math.sqrt(state.variance), 1e-9 * Math.max(1, Math.abs(state.mean)));
    const z = (value - state.mean) / sd;
    const expected = state.mean;
    const low = expected - zThreshold * sd;
    const high = expected + zThreshold * sd;
    let result: Scored | undefined;
    if (Math.abs(z) >= zThreshold) {
      // A spike is reported as one; it does not feed the CUSUM, or a burst would read as a drift.
      result = { kind: 'spike', score: Math.abs(z), expected, low, high };
    } else {
      state.up = Math.max(0, state.up + z - cusumK);
      state.down = Math.max(0, state.down - z - cusumK);
    }
    if (!result && (state.up >= cusumH || state.down >= cusumH)) {
      result = { kind: 'drift', score: Math.max(state.up, state.down), expected, low, high };
      // The level moved: start again from it rather than flagging every following point.
      state.up = 0;
      state.down = 0;
      state.mean = value;
      return result;
    }
    const bounded = Math.max(state.mean - WINSOR_SIGMA * sd, Math.min(state.mean + WINSOR_SIGMA * sd, value));
    const diff = bounded - state.mean;
    const increment = alpha * diff;
    state.mean += increment;
    state.variance = (1 - alpha) * (state.variance + diff * increment);
    return result;
  }
}
