import { trace } from '@opentelemetry/api';
import CircuitBreaker from 'opossum';
import type { Registry } from 'prom-client';
import { resolveBreakerOptions, type BreakerOptions, type ResolvedBreakerOptions } from './breaker.config.js';
import { BreakerOpenError, BreakerTimeoutError } from './breaker.error.js';
import {
  BREAKER_STATE_VALUES,
  breakerSeries,
  type BreakerOutcome,
  type BreakerSeries,
} from './breaker-metrics.js';

/** `closed`: calls run. `open`: calls are refused at once. `half_open`: a bounded number of trial calls run. */
export type BreakerState = 'closed' | 'open' | 'half_open';

/** One state change of one breaker, as logged, added to the active span and handed to listeners. */
export interface BreakerStateChange {
  readonly name: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  readonly at: Date;
}

/** The payload of a breaker's state-change event (an alias of {@link BreakerStateChange}). */
export type BreakerEvents = BreakerStateChange;

/**
 * Told about a state change, synchronously, right after it happened. Its result is ignored, but it
 * may return a promise (e.g. publishing the change on the bus), which the breaker does not await.
 * What it throws, or its promise rejects with, is logged and otherwise ignored.
 */
export type BreakerStateListener = (change: BreakerStateChange) => unknown;

/** What a breaker logs to; a NestJS `Logger` fits. State changes to `open` are warnings. */
export interface BreakerLogger {
  log(message: string): void;
  warn(message: string): void;
}

/**
 * Calls since the breaker was created, by outcome. `successes`, `failures` (time-outs excluded),
 * `timeouts` and `rejects` (refused without running) add up to all calls; `fallbacks` counts the
 * calls of any of those that a fallback answered.
 */
export interface BreakerCounts {
  readonly successes: number;
  readonly failures: number;
  readonly timeouts: number;
  readonly rejects: number;
  readonly fallbacks: number;
}

/** What {@link Breaker.stats} reports, e.g. for a health or admin endpoint. */
export interface BreakerSnapshot {
  readonly name: string;
  readonly state: BreakerState;
  readonly options: ResolvedBreakerOptions;
  readonly counts: BreakerCounts;
  /** ISO 8601 time of the last state change (the creation time while there was none). */
  readonly last_state_change: string;
}

/** Per-call options of {@link Breaker.fire}. */
export interface FireOptions<T> {
  /**
   * Answers the call instead of rejecting when it failed, timed out or was refused; receives that
   * error (`BreakerOpenError`, `BreakerTimeoutError` or the call's own). What it throws is rethrown.
   */
  readonly fallback?: (error: Error) => T | Promise<T>;
}

/** Where a breaker reports to. Every part is optional. */
export interface BreakerContext {
  /** prom-client registry for the `conduit_breaker_*` series; none without it. */
  readonly registry?: Registry;
  readonly logger?: BreakerLogger;
  /** Told about every state change, before the breaker's own listeners. */
  readonly onStateChange?: BreakerStateListener;
}

type Task = (signal: AbortSignal) => Promise<unknown>;
type Circuit = CircuitBreaker<[Task, AbortController], unknown>;

// `async` so that a task returning a non-promise or throwing synchronously still yields a promise.
const runTask = async (task: Task, controller: AbortController): Promise<unknown> => task(controller.signal);

const COUNT_KEYS = {
  success: 'successes',
  failure: 'failures',
  timeout: 'timeouts',
  reject: 'rejects',
  fallback: 'fallbacks',
} as const satisfies Record<BreakerOutcome, keyof BreakerCounts>;

function isOpossumError(error: unknown): error is Error & { code?: unknown } {
  // `isOurError` reads a property of its argument: guard against a task rejecting with null.
  return error instanceof Error && CircuitBreaker.isOurError(error);
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/**
 * A named circuit breaker around calls to one dependency, built on an opossum `CircuitBreaker`.
 *
 * - **Closed**: calls run through opossum, which times each out after `timeoutMs` (the call's
 *   `AbortSignal` is then aborted with the `BreakerTimeoutError`) and opens once the failures —
 *   time-outs included — exceed `errorThresholdPercentage` of at least `volumeThreshold` calls in
 *   the rolling window.
 * - **Open**: calls are refused at once with {@link BreakerOpenError} (or answered by the fallback);
 *   after `resetTimeoutMs` it turns half-open.
 * - **Half-open**: up to `halfOpenMaxCalls` trial calls run concurrently (same time-out), further
 *   calls are refused at once. The first trial to succeed closes the breaker, the first to fail
 *   re-opens it. opossum itself admits exactly one trial, so trials run here, beside it, and
 *   close or open the opossum breaker with their result.
 * - Closing starts a fresh rolling window: opossum keeps the failures that opened it in its
 *   window, so a single failure right after closing would open it again.
 *
 * Each state change is logged, added as a `breaker.state_change` event to the active
 * OpenTelemetry span (when one is recording) and handed to the listeners.
 */
export class Breaker {
  /** Unique per metrics registry; the `name` label of its series. */
  readonly name: string;
  /** The validated options, defaults applied. */
  readonly options: ResolvedBreakerOptions;

  private circuit: Circuit;
  private current: BreakerState = 'closed';
  private changedAt = new Date();
  // Bumped on every entry into half-open: trials of an earlier half-open period neither take
  // the new period's slots nor decide its outcome.
  private generation = 0;
  private trials = 0;
  private shut = false;
  private readonly counts = { successes: 0, failures: 0, timeouts: 0, rejects: 0, fallbacks: 0 };
  private readonly listeners = new Set<BreakerStateListener>();
  private readonly series?: BreakerSeries;
  private readonly logger?: BreakerLogger;
  private readonly notify?: BreakerStateListener;

  /**
   * Throws a `RangeError` for an empty name or invalid options, and an `Error` when a breaker of
   * the same name already reports to `context.registry`. Prefer {@link BreakerRegistry.get}.
   */
  constructor(name: string, options: BreakerOptions, context: BreakerContext = {}) {
    if (name.trim() === '') throw new RangeError('a circuit breaker needs a non-empty name');
    this.name = name;
    this.options = resolveBreakerOptions(name, options);
    this.logger = context.logger;
    this.notify = context.onStateChange;
    this.series = context.registry ? breakerSeries(context.registry, name) : undefined;
    this.circuit = this.createCircuit();
  }

  /** The current state; a shut-down breaker reports `open` (it refuses every call). */
  get state(): BreakerState {
    return this.shut ? 'open' : this.current;
  }

  /** True once {@link shutdown} ran. */
  get isShutdown(): boolean {
    return this.shut;
  }

  /**
   * Runs `fn` under the breaker. `fn` receives an `AbortSignal` aborted after `timeoutMs`, with
   * the `BreakerTimeoutError` as its reason; pass it on (`fetch(url, { signal })`) so the work
   * stops too. Rejects with `fn`'s error, a `BreakerTimeoutError`, or — at once, without calling
   * `fn` — a `BreakerOpenError` while open or with every half-open trial slot taken. With a
   * `fallback`, any of these errors is handed to it and its result returned instead.
   */
  async fire<T>(fn: (signal: AbortSignal) => Promise<T>, options: FireOptions<T> = {}): Promise<T> {
    try {
      return await this.execute(fn);
    } catch (error) {
      if (!options.fallback) throw error;
      this.record('fallback');
      return await options.fallback(asError(error));
    }
  }

  /** Whether a call would run now: closed, or half-open with a free trial slot. */
  isCallPermitted(): boolean {
    if (this.shut) return false;
    switch (this.current) {
      case 'closed':
        return true;
      case 'half_open':
        return this.trials < this.options.halfOpenMaxCalls;
      case 'open':
        return false;
    }
  }

  /** State, options and call counts since creation. */
  stats(): BreakerSnapshot {
    return {
      name: this.name,
      state: this.state,
      options: this.options,
      counts: { ...this.counts },
      last_state_change: this.changedAt.toISOString(),
    };
  }

  /** Calls `listener` on every state change of this breaker; returns the function that unsubscribes it. */
  onStateChange(listener: BreakerStateListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Stops the opossum breaker (and its timers), drops this breaker's metrics series and
   * listeners; from then on every call is refused with `BreakerOpenError`. Idempotent. Calls
   * already running settle as usual.
   */
  shutdown(): void {
    if (this.shut) return;
    this.shut = true;
    this.circuit.shutdown();
    this.series?.release();
    this.listeners.clear();
  }

  [Symbol.dispose](): void {
    this.shutdown();
  }

  private execute<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.shut) return this.refuse('has been shut down');
    switch (this.current) {
      case 'closed':
        return this.call(fn);
      case 'half_open':
        return this.trials < this.options.halfOpenMaxCalls
          ? this.trial(fn)
          : this.refuse(`is half-open with all ${this.options.halfOpenMaxCalls} trial call(s) running`);
      case 'open':
        return this.refuse();
    }
  }

  private refuse(reason?: string): Promise<never> {
    this.record('reject');
    return Promise.reject(new BreakerOpenError(this.name, reason));
  }

  /** A call while closed: opossum runs it, times it out and counts it in its window. */
  private async call<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const started = performance.now();
    try {
      const value = (await this.circuit.fire(fn, controller)) as T;
      this.finish('success', started);
      return value;
    } catch (error) {
      if (!isOpossumError(error)) {
        this.finish('failure', started);
        throw error;
      }
      if (error.code === 'ETIMEDOUT') {
        // opossum's own `abortController` option is one controller for the whole breaker,
        // aborted for good by the first time-out: every later call would start aborted. So each
        // call has its own, aborted when opossum reports that call's time-out.
        const timeout = new BreakerTimeoutError(this.name, this.options.timeoutMs);
        controller.abort(timeout);
        this.finish('timeout', started);
        throw timeout;
      }
      // EOPENBREAKER / ESHUTDOWN: opossum refused without running `fn`. Unreachable while our
      // state mirrors opossum's (it does, synchronously), mapped anyway.
      this.record('reject');
      throw new BreakerOpenError(this.name);
    }
  }

  /** A trial call while half-open, run beside opossum (which would admit one only). */
  private async trial<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.trials++;
    const generation = this.generation;
    const circuit = this.circuit;
    const decides = () =>
      !this.shut &&
      generation === this.generation &&
      this.current === 'half_open' &&
      circuit === this.circuit;
    const controller = new AbortController();
    const started = performance.now();
    try {
      const value = await withTimeout(fn, controller, this.options.timeoutMs, this.name);
      this.finish('success', started);
      if (decides()) circuit.close();
      return value;
    } catch (error) {
      const timedOut = error instanceof BreakerTimeoutError && controller.signal.reason === error;
      this.finish(timedOut ? 'timeout' : 'failure', started);
      if (decides()) circuit.open();
      throw error;
    } finally {
      if (generation === this.generation) this.trials--;
    }
  }

  private finish(outcome: 'success' | 'failure' | 'timeout', started: number): void {
    this.record(outcome);
    this.series?.duration((performance.now() - started) / 1000);
  }

  private record(outcome: BreakerOutcome): void {
    this.counts[COUNT_KEYS[outcome]]++;
    this.series?.outcome(outcome);
  }

  private createCircuit(): Circuit {
    const o = this.options;
    const circuit: Circuit = new CircuitBreaker(runTask, {
      name: this.name,
      timeout: o.timeoutMs,
      errorThresholdPercentage: o.errorThresholdPercentage,
      volumeThreshold: o.volumeThreshold,
      resetTimeout: o.resetTimeoutMs,
      rollingCountTimeout: o.rollingCountTimeoutMs,
      rollingCountBuckets: o.rollingCountBuckets,
      // volumeThreshold already keeps the first failures from opening it.
      allowWarmUp: false,
      // Percentiles sort every latency in the window on each failure; snapshots add a timer.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    circuit.on('open', () => this.transition('open'));
    circuit.on('halfOpen', () => this.transition('half_open'));
    circuit.on('close', () => {
      this.transition('closed');
      // A fresh opossum breaker: its window no longer holds the failures that opened this one.
      if (circuit === this.circuit && !this.shut) {
        this.circuit = this.createCircuit();
        circuit.shutdown();
      }
    });
    return circuit;
  }

  private transition(to: BreakerState): void {
    const from = this.current;
    if (from === to || this.shut) return;
    this.current = to;
    this.changedAt = new Date();
    if (to === 'half_open') {
      this.generation++;
      this.trials = 0;
    }
    this.series?.state(BREAKER_STATE_VALUES[to]);
    const change: BreakerStateChange = Object.freeze({ name: this.name, from, to, at: this.changedAt });
    const message = `circuit breaker "${this.name}" ${from} -> ${to}`;
    if (to === 'open') this.logger?.warn(message);
    else this.logger?.log(message);
    // A timer-driven change (open -> half_open) runs in the context of the call that opened the
    // breaker, whose span has usually ended: only a recording span takes the event.
    const span = trace.getActiveSpan();
    if (span?.isRecording()) {
      span.addEvent(
        'breaker.state_change',
        { 'breaker.name': this.name, 'breaker.from': from, 'breaker.to': to },
        change.at,
      );
    }
    // Listeners run inside opossum's event emission: one that threw would keep opossum from
    // settling the call that caused the change, so their errors stop here.
    for (const listener of [this.notify, ...this.listeners]) {
      if (!listener) continue;
      try {
        const result = listener(change);
        if (result instanceof Promise) result.catch((error: unknown) => this.listenerFailed(error));
      } catch (error) {
        this.listenerFailed(error);
      }
    }
  }

  private listenerFailed(error: unknown): void {
    const message = `circuit breaker "${this.name}": state-change listener failed: ${asError(error).message}`;
    if (this.logger) this.logger.warn(message);
    else process.emitWarning(message);
  }
}

/** Runs `fn` with `controller`'s signal; after `timeoutMs` aborts it and rejects with a `BreakerTimeoutError`. */
function withTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  controller: AbortController,
  timeoutMs: number,
  name: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new BreakerTimeoutError(name, timeoutMs);
      reject(error);
      controller.abort(error);
    }, timeoutMs);
    runTask(fn, controller).then(
      (value) => {
        clearTimeout(timer);
        resolve(value as T);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
