import { describe, expect, it } from 'vitest';
import { RouteStatsWindow } from './route-stats.js';

describe(RouteStatsWindow.name, () => {
  it('gives rate, percentiles and 5xx share per route over the last minute only', () => {
    let now = 1_000_000;
    const window = new RouteStatsWindow(() => now);
    for (let i = 1; i <= 100; i++) window.record('GET /a', i === 100 ? 503 : 200, i);
    now += 1_000;
    for (let i = 0; i < 100; i++) window.record('GET /a', 404, 1);
    window.record('POST /b', 200, 5);
    const [a, b] = window.lastMinute();
    expect(a).toMatchObject({ route: 'GET /a', requests: 200, rps: 100, errors: 1, error_rate: 0.005 });
    expect(a?.p50_ms).toBe(1);
    expect(a?.p99_ms).toBe(98);
    expect(b).toMatchObject({ route: 'POST /b', requests: 1 });
    now += 61_000;
    expect(window.lastMinute()).toEqual([]);
  });
});
