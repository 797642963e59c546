import { describe, expect, it } from 'vitest';
import {
  chiSquareGoodnessOfFit,
  chiSquareSurvival,
  logGamma,
  meanInterval,
  normalCdf,
  normalQuantile,
  quantileSorted,
  regularizedBeta,
  sequentialInterval,
  studentTCdf,
  studentTQuantile,
  summarize,
  twoProportionZTest,
  welchTTest,
  wilsonInterval,
} from './stats.js';

describe('special functions', () => {
  it('logGamma matches factorials and Γ(½) = √π', () => {
    expect(logGamma(1)).toBeCloseTo(0, 13);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(logGamma(101)).toBeCloseTo(363.73937555556347, 9); // ln(100!)
  });

  it('regularizedBeta has its closed forms: I_x(1, b) = 1 − (1−x)^b, I_x(a, 1) = x^a', () => {
    expect(regularizedBeta(0.3, 1, 4)).toBeCloseTo(1 - 0.7 ** 4, 13);
    expect(regularizedBeta(0.3, 2.5, 1)).toBeCloseTo(0.3 ** 2.5, 13);
    expect(regularizedBeta(0.5, 3, 3)).toBeCloseTo(0.5, 13); // symmetric
  });

  it('normalCdf matches the standard normal table in the centre and far in the tails', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1)).toBeCloseTo(0.841344746, 9);
    expect(normalCdf(1.959963985)).toBeCloseTo(0.975, 9);
    expect(normalCdf(-3)).toBeCloseTo(0.001349898, 9);
    // Tail without cancellation: Φ(−8) = 6.22096e−16.
    expect(normalCdf(-8) / 6.22096057e-16).toBeCloseTo(1, 6);
  });

  it('normalQuantile inverts it: z(0.975) = 1.959964, z(0.995) = 2.575829', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 8);
    expect(normalQuantile(0.995)).toBeCloseTo(2.575829304, 8);
    expect(normalQuantile(0.025)).toBeCloseTo(-1.959963985, 8);
  });

  it('studentTQuantile reproduces the t table (two-sided 95 %: df 1, 10, 30; one-sided 95 %: df 5)', () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.70620474, 6);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228138852, 8);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.042272456, 8);
    expect(studentTQuantile(0.95, 5)).toBeCloseTo(2.015048373, 8);
    expect(studentTCdf(2.228138852, 10)).toBeCloseTo(0.975, 9);
    // df → ∞ approaches the normal.
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.959964, 5);
  });

  it('chiSquareSurvival reproduces the chi-square table (0.95 for df 1 and 2, 0.999 for df 3)', () => {
    expect(chiSquareSurvival(3.841458821, 1)).toBeCloseTo(0.05, 9);
    expect(chiSquareSurvival(5.991464547, 2)).toBeCloseTo(0.05, 9);
    expect(chiSquareSurvival(16.2662362, 3)).toBeCloseTo(0.001, 9);
    expect(chiSquareSurvival(2, 2)).toBeCloseTo(Math.exp(-1), 13); // df 2: P(X ≥ x) = e^(−x/2)
  });
});

describe(welchTTest.name, () => {
  // Wikipedia, "Welch's t-test", Examples (data sets A1/A2 and B1/B2 as published there):
  // example 1 gives t = 2.46, ν ≈ 24.99, p = 0.021; example 2 gives t = 1.57, ν ≈ 9.90, p = 0.149.
  const a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
  const a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
  const b1 = [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8];
  const b2 = [
    21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5,
    23.5, 21.5, 21.8,
  ];

  it('matches the first published worked example', () => {
    const sut = welchTTest(summarize(a1), summarize(a2));
    expect(sut?.statistic).toBeCloseTo(2.455356, 5);
    expect(sut?.df).toBeCloseTo(24.98853, 4);
    expect(sut?.pValue).toBeCloseTo(0.021378, 5);
  });

  it('matches the second published worked example (unequal sizes and variances)', () => {
    const sut = welchTTest(summarize(b1), summarize(b2));
    expect(sut?.statistic).toBeCloseTo(1.565434, 5);
    expect(sut?.df).toBeCloseTo(9.904741, 4);
    expect(sut?.pValue).toBeCloseTo(0.148842, 5);
    // The 95 % interval of the difference excludes 0 exactly when p < 0.05: here it does not.
    expect(sut?.interval.low).toBeLessThan(0);
    expect(sut?.interval.high).toBeGreaterThan(0);
  });

  it('is undefined without variance or with a single observation', () => {
    expect(welchTTest(summarize([1, 1, 1]), summarize([1, 1]))).toBeUndefined();
    expect(welchTTest(summarize([1]), summarize([1, 2, 3]))).toBeUndefined();
  });
});

describe(twoProportionZTest.name, () => {
  it('matches a worked example: 60/100 vs 45/100 gives z = −2.124, p = 0.0337', () => {
    // Pooled p̂ = 105/200 = 0.525; SE = √(0.525·0.475·(2/100)) = 0.070622; z = −0.15/0.070622.
    const sut = twoProportionZTest({ successes: 60, n: 100 }, { successes: 45, n: 100 });
    expect(sut?.difference).toBeCloseTo(-0.15, 12);
    expect(sut?.statistic).toBeCloseTo(-2.12398, 4);
    expect(sut?.pValue).toBeCloseTo(0.03367, 4);
    // Unpooled SE √(0.6·0.4/100 + 0.45·0.55/100) = 0.069821 → interval −0.15 ± 1.96·0.069821.
    expect(sut?.interval.low).toBeCloseTo(-0.15 - 1.959964 * 0.0698212, 5);
  });

  it('is undefined when nobody (or everybody) converted in both groups', () => {
    expect(twoProportionZTest({ successes: 0, n: 10 }, { successes: 0, n: 10 })).toBeUndefined();
  });
});

describe(chiSquareGoodnessOfFit.name, () => {
  it("matches Mendel's peas against 9:3:3:1 (χ² = 0.470, df 3, p = 0.925)", () => {
    const sut = chiSquareGoodnessOfFit([315, 108, 101, 32], [9, 3, 3, 1]);
    expect(sut?.statistic).toBeCloseTo(0.470024, 5);
    expect(sut?.df).toBe(3);
    expect(sut?.pValue).toBeCloseTo(0.925426, 5);
  });

  it('flags a broken 50/50 split: 5 300 vs 4 700 gives p < 0.001', () => {
    const sut = chiSquareGoodnessOfFit([5300, 4700], [1, 1]);
    expect(sut?.statistic).toBeCloseTo(36, 10); // (300² + 300²) / 5 000
    expect(sut?.pValue).toBeLessThan(0.001);
  });
});

describe('intervals', () => {
  it('meanInterval uses t(0.975, n − 1)', () => {
    const sut = meanInterval({ n: 11, mean: 10, variance: 4 });
    expect(sut?.high).toBeCloseTo(10 + 2.228138852 * Math.sqrt(4 / 11), 8);
  });

  it('wilsonInterval: 81/263 → [0.2553, 0.3662] (Wilson 1927 score interval, computed by hand)', () => {
    const sut = wilsonInterval(81, 263);
    expect(sut?.low).toBeCloseTo(0.2553, 3);
    expect(sut?.high).toBeCloseTo(0.3662, 3);
  });

  it('sequentialInterval is wider than the fixed-horizon one and contains it', () => {
    const v = 0.01;
    const sut = sequentialInterval(0.1, v, 0.01) as NonNullable<ReturnType<typeof sequentialInterval>>;
    const fixedHalf = 1.959964 * Math.sqrt(v);
    expect(sut).toBeDefined();
    expect(sut.interval.high - 0.1).toBeGreaterThan(fixedHalf);
    // Half-width √(V(V+τ²)/τ² · (2 ln 20 + ln 2)) = √(0.02 · 6.684) = 0.36563.
    expect(sut.interval.high - 0.1).toBeCloseTo(Math.sqrt(0.02 * (2 * Math.log(20) + Math.log(2))), 12);
  });

  it('sequential p-value is below α exactly when the interval excludes 0', () => {
    for (const difference of [0.05, 0.3, 0.36, 0.37, 0.5]) {
      const sut = sequentialInterval(difference, 0.01, 0.01) as NonNullable<
        ReturnType<typeof sequentialInterval>
      >;
      expect(sut.pValue < 0.05).toBe(sut.interval.low > 0);
    }
  });

  it('quantileSorted interpolates like R type 7', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBeCloseTo(9.55, 12);
    expect(quantileSorted([], 0.5)).toBeUndefined();
  });
});
