import { describe, expect, it } from 'vitest';
import {
  isCommonTelemetryIngestMessage,
  isCommonTelemetryPointsBody,
  telemetryIngestMessageSchema,
  telemetryPointsBodySchema,
} from './telemetry.schemas.js';

const point = (over: Record<string, unknown> = {}) => ({
  metric: 'temp',
  ts: 1_764_000_000_000,
  value: 21.5,
  ...over,
});
const message = (points: unknown[], over: Record<string, unknown> = {}) => ({ version: 1, points, ...over });

describe(isCommonTelemetryIngestMessage.name, () => {
  it('takes the gateway shape (epoch ms), which the schema accepts unchanged', () => {
    const m = message([point(), point({ metric: 'a.b:c-d_1', ts: 0, value: -1e-9 }), point({ ts: 8.64e15 })]);
    expect(isCommonTelemetryIngestMessage(m)).toBe(true);
    expect(telemetryIngestMessageSchema.parse(m)).toEqual(m);
  });

  // Every case the fast check declines is left to the schema; none it takes may be refused there.
  const cases: [string, unknown][] = [
    ['an ISO timestamp', message([point({ ts: '2026-12-01T10:00:00Z' })])],
    ['a fractional timestamp', message([point({ ts: 1.5 })])],
    ['a negative timestamp', message([point({ ts: -1 })])],
    ['a timestamp past year 275 760', message([point({ ts: 8.64e15 + 1 })])],
    ['a bad metric name', message([point({ metric: 'has space' })])],
    ['a 65-character metric name', message([point({ metric: 'm'.repeat(65) })])],
    ['an empty metric name', message([point({ metric: '' })])],
    ['a numeric string value', message([point({ value: '21.5' })])],
    ['a null value', message([point({ value: null })])],
    ['a missing value', message([{ metric: 'temp', ts: 1 }])],
    ['version 2', message([point()], { version: 2 })],
    ['no points', message([])],
    ['10 001 points', message(Array.from({ length: 10_001 }, () => point()))],
    ['points that are not objects', message([1, 2])],
    ['a null payload', null],
    ['an array payload', [point()]],
  ];
  it.each(cases)('declines %s, leaving it to the schema', (_, payload) => {
    expect(isCommonTelemetryIngestMessage(payload)).toBe(false);
  });

  it('never takes what the schema refuses or would change (5 000 generated messages)', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const metrics = ['temp', 'a.b:c-d_1', 'm'.repeat(64), 'm'.repeat(65), '', 'sp ace', 'é', 7];
    const times = [
      0,
      1_764_000_000_000,
      8.64e15,
      8.64e15 + 1,
      -1,
      1.5,
      Number.MAX_SAFE_INTEGER,
      '2026-12-01T10:00:00Z',
      null,
    ];
    const values = [0, -1e-9, 1e300, 21.5, '21.5', null, true];
    let taken = 0;
    for (let i = 0; i < 5_000; i++) {
      const points = Array.from({ length: 1 + Math.floor(rnd() * 2) }, () =>
        rnd() < 0.05 ? 'x' : { metric: pick(metrics), ts: pick(times), value: pick(values) },
      );
      const payload = { version: rnd() < 0.95 ? 1 : 2, points };
      if (!isCommonTelemetryIngestMessage(payload)) continue;
      taken++;
      const parsed = telemetryIngestMessageSchema.safeParse(payload);
      expect(parsed.success, JSON.stringify(payload)).toBe(true);
      expect(parsed.data).toEqual(payload);
    }
    // The generator must exercise the fast path, not only the declines.
    expect(taken).toBeGreaterThan(100);
  });
});

describe(isCommonTelemetryPointsBody.name, () => {
  const p = (over: Record<string, unknown> = {}) => ({ device_id: 'd-1', ...point(over) });
  it('takes a { points } body of epoch-ms points, which the schema accepts unchanged', () => {
    const body = { points: [p(), p({ device_id: 'D_2' })] };
    expect(isCommonTelemetryPointsBody(body)).toBe(true);
    expect(telemetryPointsBodySchema.parse(body)).toEqual(body);
  });

  it.each([
    ['an extra key in a point (the schema is strict: 400)', { points: [{ ...p(), unit: 'C' }] }],
    ['an extra key in the body', { points: [p()], batch: 1 }],
    ['a missing device', { points: [point()] }],
    ['a device id with a dot', { points: [p({ device_id: 'a.b' })] }],
    ['an ISO timestamp', { points: [p({ ts: '2026-12-01T10:00:00Z' })] }],
    ['no points', { points: [] }],
    ['an array of readings (the other form)', [{ device_id: 'd', data: { t: 1 } }]],
  ])('declines %s, leaving it to the schema', (_, body) => {
    expect(isCommonTelemetryPointsBody(body)).toBe(false);
  });

  it('never takes what the schema refuses or would change (5 000 generated bodies)', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const devices = ['d-1', 'D_2', 'd-1', 'x'.repeat(128), 'x'.repeat(129), 'a.b', '', 3];
    const extras = [{}, {}, {}, {}, {}, { unit: 'C' }];
    let taken = 0;
    for (let i = 0; i < 5_000; i++) {
      const points = Array.from({ length: 1 }, () => ({
        ...(rnd() < 0.95 ? { device_id: pick(devices) } : {}),
        ...(rnd() < 0.95 ? { metric: pick(['temp', 'temp', 'a:b', 'bad metric', 'm'.repeat(65)]) } : {}),
        ts: pick([0, 1_764_000_000_000, 1_764_000_000_001, -1, 2.5, 8.64e15 + 1, '2026-12-01T10:00:00Z']),
        value: pick([1, -0.5, 1e9, '1', null]),
        ...pick(extras),
      }));
      const body = rnd() < 0.95 ? { points } : { points, extra: true };
      if (!isCommonTelemetryPointsBody(body)) continue;
      taken++;
      const parsed = telemetryPointsBodySchema.safeParse(body);
      expect(parsed.success, JSON.stringify(body)).toBe(true);
      expect(parsed.data).toEqual(body);
    }
    expect(taken).toBeGreaterThan(100);
  });
});
