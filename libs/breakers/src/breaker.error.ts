/**
 * A call refused without running: the breaker is open, its half-open trial slots are all taken,
 * or it was shut down. Raised at once — the caller never waits for the dependency.
 */
export class BreakerOpenError extends Error {
  /** The breaker that refused the call. */
  readonly breaker: string;

  constructor(breaker: string, reason = 'is open') {
    super(`circuit breaker "${breaker}" ${reason}`);
    this.name = 'BreakerOpenError';
    this.breaker = breaker;
  }
}

/**
 * A call that did not settle within the breaker's `timeoutMs`. The call's `AbortSignal` was
 * aborted with this very error as its `reason`, and the call counts as a failure of the breaker.
 */
export class BreakerTimeoutError extends Error {
  /** The breaker whose time-out elapsed. */
  readonly breaker: string;
  /** The time-out that elapsed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(breaker: string, timeoutMs: number) {
    super(`circuit breaker "${breaker}": call timed out after ${timeoutMs} ms`);
    this.name = 'BreakerTimeoutError';
    this.breaker = breaker;
    this.timeoutMs = timeoutMs;
  }
}
