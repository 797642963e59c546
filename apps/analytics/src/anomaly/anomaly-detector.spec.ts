import { describe, expect, it } from 'vitest';
import { AnomalyDetectorService, newDetectorState, type Scored } from './anomaly-detector.service.js';

/** Deterministic N(0, 1) noise (mulberry32 + Box-Muller): the test means the same thing on every run. */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

const MEAN = 50;
const SIGMA = 2;

describe(AnomalyDetectorService.name, () => {
  const run = (values: number[]) => {
    const sut = new AnomalyDetectorService();
    const state = newDetectorState();
    return values.map((v) => sut.observe(state, v));
  };
  const flagged = (results: (Scored | undefined)[]) => results.flatMap((r, i) => (r ? [{ i, ...r }] : []));

  it('reports an injected spike as exactly one anomaly, with its expected range', () => {
    const noise = gaussian(1);
    const values = Array.from({ length: 5_000 }, () => MEAN + SIGMA * noise());
    values[3_000] = MEAN + 12 * SIGMA;
    const anomalies = flagged(run(values));
    expect(anomalies).toHaveLength(1);
    expect(anomalies[0]).toMatchObject({ i: 3_000, kind: 'spike' });
    expect(anomalies[0]?.score).toBeGreaterThan(8);
    expect(anomalies[0]?.low).toBeLessThan(MEAN);
    expect(anomalies[0]?.high).toBeGreaterThan(MEAN);
    expect(anomalies[0]?.high).toBeLessThan(MEAN + 12 * SIGMA);
  });

  // Stated bound: a ramp of 0.05 σ per point (1 σ every 20 points) is flagged within 60 points.
  it('catches an injected drift of 0.05 σ per point within 60 points, without a spike', () => {
    const noise = gaussian(2);
    const start = 3_000;
    const values = Array.from(
      { length: 4_000 },
      (_, i) => MEAN + SIGMA * noise() + (i >= start ? 0.05 * SIGMA * (i - start) : 0),
    );
    const first = flagged(run(values)).find((a) => a.i >= start);
    expect(first).toBeDefined();
    expect(first?.kind).toBe('drift');
    console.log(`drift of 0.05 σ/point flagged after ${(first?.i ?? NaN) - start} points`);
    expect((first?.i ?? Infinity) - start).toBeLessThanOrEqual(60);
    expect(flagged(run(values)).filter((a) => a.i < start)).toEqual([]);
  });

  it('catches a level shift of 2 σ within 15 points', () => {
    const noise = gaussian(3);
    const values = Array.from(
      { length: 2_000 },
      (_, i) => MEAN + SIGMA * noise() + (i >= 1_500 ? 2 * SIGMA : 0),
    );
    const first = flagged(run(values)).find((a) => a.i >= 1_500);
    console.log(`2 σ level shift flagged after ${(first?.i ?? NaN) - 1_500} points`);
    expect((first?.i ?? Infinity) - 1_500).toBeLessThanOrEqual(15);
  });

  // Stated: on 1 000 000 normal points the false-positive rate stays below 1e-5 (≤ 10 anomalies).
  it('raises (almost) nothing on 1 000 000 normal points: false-positive rate below 1e-5', () => {
    const noise = gaussian(4);
    const sut = new AnomalyDetectorService();
    const state = newDetectorState();
    let falsePositives = 0;
    const total = 1_000_000;
    for (let i = 0; i < total; i++) if (sut.observe(state, MEAN + SIGMA * noise())) falsePositives++;
    const rate = falsePositives / total;
    console.log(`false positives: ${falsePositives} of ${total} (rate ${rate})`);
    expect(rate).toBeLessThan(1e-5);
  });

  it('does not score during warm-up, and a constant series flags any change', () => {
    const results = run([...Array.from({ length: 40 }, () => 7), 7.5]);
    expect(results.slice(0, 40).every((r) => r === undefined)).toBe(true);
    expect(results[40]?.kind).toBe('spike');
  });

  it('reports a burst of three spikes as three spikes, and no drift after it', () => {
    const noise = gaussian(5);
    const values = Array.from({ length: 3_000 }, () => MEAN + SIGMA * noise());
    values[2_000] = values[2_001] = values[2_002] = MEAN + 50 * SIGMA;
    expect(flagged(run(values)).map((a) => [a.i, a.kind])).toEqual([
      [2_000, 'spike'],
      [2_001, 'spike'],
      [2_002, 'spike'],
    ]);
  });
});
