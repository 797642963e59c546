// Distributions and tests for experiment results. No statistics package is installed, so the
// special functions are implemented here after Numerical Recipes (3rd ed., §6.1–6.4) and checked
// in stats.spec.ts against published table values and worked examples.

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; relative error ≈ 1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x); // reflection
  const z = x - 1;
  let sum = LANCZOS[0] as number;
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] as number) / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const EPS = 1e-15;
const FPMIN = 1e-300;
const MAX_ITER = 500;

/** Lower regularized gamma P(a, x) by its series (converges fast for x < a + 1). */
function gammaSeries(a: number, x: number): number {
  let ap = a;
  let sum = 1 / a;
  let del = sum;
  for (let n = 0; n < MAX_ITER; n++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

/** Upper regularized gamma Q(a, x) by its continued fraction (modified Lentz; x ≥ a + 1). */
function gammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / FPMIN;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = b + an / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

/** Lower regularized incomplete gamma P(a, x) = γ(a, x) / Γ(a). */
export function regularizedGammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  return x < a + 1 ? gammaSeries(a, x) : 1 - gammaContinuedFraction(a, x);
}

/** Upper regularized incomplete gamma Q(a, x) = 1 − P(a, x), without cancellation in the tail. */
export function regularizedGammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < FPMIN) d = FPMIN;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITER; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b), for 0 ≤ x ≤ 1. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast only on this side of the mean; use symmetry otherwise.
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Standard normal CDF Φ(z) = ½·(1 + P(½, z²/2)·sign z), accurate in both tails. */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  const half = 0.5 * regularizedGammaQ(0.5, (z * z) / 2); // = P(Z > |z|)
  return z >= 0 ? 1 - half : half;
}

/** Two-sided p-value of a standard normal statistic: P(|Z| ≥ |z|). */
export function normalTwoSided(z: number): number {
  return regularizedGammaQ(0.5, (z * z) / 2);
}

/** Student t CDF with `df` degrees of freedom (df may be fractional, as Welch's is). */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5); // = P(T > |t|)
  return t >= 0 ? 1 - tail : tail;
}

/** Two-sided p-value of a t statistic: P(|T| ≥ |t|) = I_{df/(df+t²)}(df/2, ½). */
export function studentTTwoSided(t: number, df: number): number {
  return regularizedBeta(df / (df + t * t), df / 2, 0.5);
}

/** Chi-square upper tail P(X ≥ x) with `k` degrees of freedom = Q(k/2, x/2). */
export function chiSquareSurvival(x: number, k: number): number {
  return regularizedGammaQ(k / 2, x / 2);
}

/** Inverts a continuous increasing CDF on (−∞, ∞) by bisection: exact to double precision. */
function invertSymmetric(cdf: (x: number) => number, p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probability ${p} outside (0, 1)`);
  if (p < 0.5) return -invertSymmetric(cdf, 1 - p);
  let lo = 0;
  let hi = 1;
  while (cdf(hi) < p) {
    lo = hi;
    hi *= 2;
    if (hi > 1e12) return hi;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Standard normal quantile Φ⁻¹(p). */
export function normalQuantile(p: number): number {
  return invertSymmetric(normalCdf, p);
}

/** Student t quantile with `df` degrees of freedom. */
export function studentTQuantile(p: number, df: number): number {
  return invertSymmetric((t) => studentTCdf(t, df), p);
}

/** n, mean and sample variance (n − 1 denominator) of one group. */
export interface Summary {
  readonly n: number;
  readonly mean: number;
  readonly variance: number;
}

/** Summary of raw values (Welford's algorithm: stable for large means). */
export function summarize(values: readonly number[]): Summary {
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (const v of values) {
    n++;
    const delta = v - mean;
    mean += delta / n;
    m2 += delta * (v - mean);
  }
  return { n, mean: n ? mean : Number.NaN, variance: n > 1 ? m2 / (n - 1) : Number.NaN };
}

/** A two-sided interval. */
export interface Interval {
  readonly low: number;
  readonly high: number;
}

/** mean ± t(0.975, n−1)·s/√n; undefined with fewer than 2 observations. */
export function meanInterval(s: Summary, confidence = 0.95): Interval | undefined {
  if (s.n < 2 || !Number.isFinite(s.variance)) return undefined;
  const half = studentTQuantile(1 - (1 - confidence) / 2, s.n - 1) * Math.sqrt(s.variance / s.n);
  return { low: s.mean - half, high: s.mean + half };
}

/**
 * Wilson score interval of a proportion (better coverage than p ± z·√(p(1−p)/n) near 0 and 1):
 * (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n).
 */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): Interval | undefined {
  if (n < 1) return undefined;
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = successes / n;
  const denom = 1 + (z * z) / n;
  const center = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return { low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

/** A comparison of a treatment against control: difference = treatment − control. */
export interface Comparison {
  readonly difference: number;
  readonly standardError: number;
  readonly statistic: number;
  readonly df?: number;
  readonly pValue: number;
  /** Fixed-horizon 95 % interval of the difference. */
  readonly interval: Interval;
}

/**
 * Welch's unequal-variances t-test (Welch 1947): t = (x̄₂ − x̄₁)/√(s₁²/n₁ + s₂²/n₂), with
 * Welch–Satterthwaite df = (s₁²/n₁ + s₂²/n₂)² / ((s₁²/n₁)²/(n₁−1) + (s₂²/n₂)²/(n₂−1)).
 * Undefined when a group has fewer than 2 observations or both variances are 0.
 */
export function welchTTest(control: Summary, treatment: Summary, confidence = 0.95): Comparison | undefined {
  if (control.n < 2 || treatment.n < 2) return undefined;
  const vc = control.variance / control.n;
  const vt = treatment.variance / treatment.n;
  const se = Math.sqrt(vc + vt);
  if (!(se > 0)) return undefined;
  const difference = treatment.mean - control.mean;
  const t = difference / se;
  const df = (vc + vt) ** 2 / (vc ** 2 / (control.n - 1) + vt ** 2 / (treatment.n - 1));
  const half = studentTQuantile(1 - (1 - confidence) / 2, df) * se;
  return {
    difference,
    standardError: se,
    statistic: t,
    df,
    pValue: studentTTwoSided(t, df),
    interval: { low: difference - half, high: difference + half },
  };
}

/**
 * Two-proportion z-test: z = (p₂ − p₁)/√(p̂(1−p̂)(1/n₁ + 1/n₂)) with the pooled p̂ = (x₁+x₂)/(n₁+n₂)
 * for the p-value (the null says both are equal); the interval uses the unpooled standard error
 * √(p₁(1−p₁)/n₁ + p₂(1−p₂)/n₂), as is usual for a difference of proportions.
 */
export function twoProportionZTest(
  control: { successes: number; n: number },
  treatment: { successes: number; n: number },
  confidence = 0.95,
): Comparison | undefined {
  if (control.n < 1 || treatment.n < 1) return undefined;
  const p1 = control.successes / control.n;
  const p2 = treatment.successes / treatment.n;
  const pooled = (control.successes + treatment.successes) / (control.n + treatment.n);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n));
  if (!(sePooled > 0)) return undefined;
  const difference = p2 - p1;
  const z = difference / sePooled;
  const se = Math.sqrt((p1 * (1 - p1)) / control.n + (p2 * (1 - p2)) / treatment.n);
  const half = normalQuantile(1 - (1 - confidence) / 2) * se;
  return {
    difference,
    standardError: se,
    statistic: z,
    pValue: normalTwoSided(z),
    interval: { low: difference - half, high: difference + half },
  };
}

/** Pearson's chi-square goodness of fit of observed counts against expected shares (weights). */
export function chiSquareGoodnessOfFit(
  observed: readonly number[],
  weights: readonly number[],
): { statistic: number; df: number; pValue: number } | undefined {
  const total = observed.reduce((a, b) => a + b, 0);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  if (observed.length < 2 || observed.length !== weights.length || total === 0 || !(weightSum > 0))
    return undefined;
  let statistic = 0;
  for (let i = 0; i < observed.length; i++) {
    const expected = (total * (weights[i] as number)) / weightSum;
    statistic += ((observed[i] as number) - expected) ** 2 / expected;
  }
  const df = observed.length - 1;
  return { statistic, df, pValue: chiSquareSurvival(statistic, df) };
}

/**
 * Always-valid confidence interval of a difference from the normal-mixture sequential
 * probability ratio test (mSPRT) of Johari, Koomen, Pekelis & Walsh, "Always Valid Inference:
 * Continuous Monitoring of A/B Tests", Operations Research 70(3), 2022, §4. With the estimate
 * θ̂ of the difference, its variance V = s₁²/n₁ + s₂²/n₂ and a N(0, τ²) mixing distribution the
 * likelihood ratio against θ₀ is
 *
 *   Λ(θ₀) = √(V/(V+τ²)) · exp( τ²(θ̂−θ₀)² / (2V(V+τ²)) ),
 *
 * and {θ₀ : Λ(θ₀) < 1/α} is a (1−α) confidence sequence:
 *
 *   θ̂ ± √( V(V+τ²)/τ² · (2·ln(1/α) + ln((V+τ²)/V)) ).
 *
 * Its coverage holds at every sample size at once, so looking at results as they arrive (and
 * stopping when the interval excludes 0) does not inflate the false-positive rate. V uses the
 * sample variances (a plug-in: valid asymptotically, as in the paper's §5). The always-valid
 * p-value at this look is min(1, 1/Λ(0)); a caller that kept the history would take the running
 * minimum. `tau2` tunes where the interval is tightest (the effect size expected).
 */
export function sequentialInterval(
  difference: number,
  variance: number,
  tau2: number,
  alpha = 0.05,
): { interval: Interval; pValue: number } | undefined {
  if (!(variance > 0) || !(tau2 > 0)) return undefined;
  const v = variance;
  const half = Math.sqrt(((v * (v + tau2)) / tau2) * (2 * Math.log(1 / alpha) + Math.log((v + tau2) / v)));
  const logLambda = 0.5 * Math.log(v / (v + tau2)) + (tau2 * difference * difference) / (2 * v * (v + tau2));
  return {
    interval: { low: difference - half, high: difference + half },
    pValue: Math.min(1, Math.exp(-logLambda)),
  };
}

/** Quantile `q` (0–1) of sorted values, linear interpolation between order statistics (R type 7). */
export function quantileSorted(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}
