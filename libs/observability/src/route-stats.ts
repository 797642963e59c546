/** Per-route figures over the last minute, as `/performance/metrics` shows them. */
export interface RouteStats {
  readonly route: string;
  readonly requests: number;
  readonly rps: number;
  readonly errors: number;
  /** Share of 5xx answers (4xx are the caller's errors, not the service's). */
  readonly error_rate: number;
  readonly p50_ms: number;
  readonly p95_ms: number;
  readonly p99_ms: number;
}

interface Second {
  at: number;
  count: number;
  errors: number;
  samples: number[];
}

const WINDOW_S = 60;
/** Durations kept per route and second; beyond it requests are counted but not sampled. */
const MAX_SAMPLES = 2_000;

/**
 * A sliding one-minute window of request durations per route (`GET /api/v1/devices/:id`):
 * 60 one-second slots per route, reused in place, so recording costs a push and no timers.
 */
export class RouteStatsWindow {
  private readonly routes = new Map<string, Second[]>();

  constructor(private readonly now: () => number = Date.now) {}

  record(route: string, status: number, ms: number): void {
    const second = Math.floor(this.now() / 1000);
    let slots = this.routes.get(route);
    if (!slots) {
      slots = Array.from({ length: WINDOW_S }, () => ({ at: -1, count: 0, errors: 0, samples: [] }));
      this.routes.set(route, slots);
    }
    const slot = slots[second % WINDOW_S] as Second;
    if (slot.at !== second) {
      slot.at = second;
      slot.count = 0;
      slot.errors = 0;
      slot.samples.length = 0;
    }
    slot.count++;
    if (status >= 500) slot.errors++;
    if (slot.samples.length < MAX_SAMPLES) slot.samples.push(ms);
  }

  /** Every route seen in the last minute, busiest first. */
  lastMinute(): RouteStats[] {
    const nowS = Math.floor(this.now() / 1000);
    const out: RouteStats[] = [];
    for (const [route, slots] of this.routes) {
      let requests = 0;
      let errors = 0;
      let oldest = nowS;
      const samples: number[] = [];
      for (const slot of slots) {
        if (slot.at < 0 || nowS - slot.at >= WINDOW_S) continue;
        requests += slot.count;
        errors += slot.errors;
        oldest = Math.min(oldest, slot.at);
        for (const s of slot.samples) samples.push(s);
      }
      if (requests === 0) {
        this.routes.delete(route);
        continue;
      }
      samples.sort((a, b) => a - b);
      const pct = (p: number) =>
        round(samples[Math.min(samples.length - 1, Math.ceil(p * samples.length) - 1)] ?? 0);
      const spanS = Math.max(1, nowS - oldest + 1);
      out.push({
        route,
        requests,
        rps: round(requests / spanS),
        errors,
        error_rate: round(errors / requests, 4),
        p50_ms: pct(0.5),
        p95_ms: pct(0.95),
        p99_ms: pct(0.99),
      });
    }
    return out.sort((a, b) => b.requests - a.requests);
  }
}

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;
