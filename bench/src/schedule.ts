// The open loop's timetable, kept apart from the I/O so that it can be tested.

/** When request `i` (0-based) is due, in ms on the clock `start` was read from. */
export function sendTime(start: number, rate: number, i: number): number {
  return start + (i * 1000) / rate;
}

/**
 * How many requests (of `total`, sent at `rate` per second from `start`) are due by `now`,
 * i.e. the index of the first request not yet due. The epsilon keeps request `i` due at exactly
 * `sendTime(i)` despite floating-point rounding.
 */
export function dueCount(start: number, rate: number, total: number, now: number): number {
  if (now < start) return 0;
  return Math.min(total, Math.floor(((now - start) * rate) / 1000 + 1e-9) + 1);
}
