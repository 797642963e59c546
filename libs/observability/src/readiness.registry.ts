import { Injectable } from '@nestjs/common';

/** Per-check time-out when {@link ReadinessRegistry.register} is given none. */
export const DEFAULT_READINESS_TIMEOUT_MS = 1_000;

/** One registered readiness check. */
export interface ReadinessCheck {
  readonly name: string;
  /** Resolves when the dependency answers; rejects (with why) when it does not. */
  readonly check: () => Promise<void>;
  /** Longer than this counts as down. */
  readonly timeoutMs: number;
}

/** The state of one check in a {@link ReadinessReport}. */
export type ReadinessCheckResult =
  { readonly status: 'up' } | { readonly status: 'down'; readonly message: string };

/**
 * What `/readyz` answers: `ok` (HTTP 200) when every check is up, else `error` (HTTP 503);
 * `checks` holds every registered check by name, a failing one with its error message.
 */
export interface ReadinessReport {
  readonly status: 'ok' | 'error';
  readonly checks: Readonly<Record<string, ReadinessCheckResult>>;
}

/**
 * The dependencies `/readyz` checks. Apps and libs register theirs at module init (NATS,
 * Postgres through PgBouncer, Redis where used). {@link run} runs them all in parallel, each
 * bounded by its time-out.
 */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private inFlight: Promise<ReadinessReport> | undefined;

  /**
   * Adds (or, under an existing name, replaces) a check. `check` should be cheap — a ping, a
   * connection flag — since probes call it every few seconds; it is down when it rejects or
   * takes longer than `timeoutMs` (default {@link DEFAULT_READINESS_TIMEOUT_MS}).
   */
  register(name: string, check: () => Promise<void>, options: { timeoutMs?: number } = {}): void {
    this.checks.set(name, { name, check, timeoutMs: options.timeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS });
  }

  /** The registered checks, in registration order. */
  list(): readonly ReadinessCheck[] {
    return [...this.checks.values()];
  }

  /**
   * Runs every check in parallel and reports. Never rejects. Callers arriving while a run is in
   * flight share it, so that a burst of probes does not multiply the load on a struggling
   * dependency; a run takes at most the longest time-out.
   */
  run(): Promise<ReadinessReport> {
    this.inFlight ??= this.runAll().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async runAll(): Promise<ReadinessReport> {
    const results = await Promise.all(
      this.list().map(async (c): Promise<[string, ReadinessCheckResult]> => {
        try {
          // Through a promise so that a check throwing synchronously counts as down too.
          await withTimeout(Promise.resolve().then(c.check), c.timeoutMs);
          return [c.name, { status: 'up' }];
        } catch (error) {
          return [
            c.name,
            { status: 'down', message: error instanceof Error ? error.message : String(error) },
          ];
        }
      }),
    );
    return {
      status: results.every(([, r]) => r.status === 'up') ? 'ok' : 'error',
      checks: Object.fromEntries(results),
    };
  }
}

/**
 * Settles as `work` does, or rejects with `no answer within <ms> ms` when `work` takes longer
 * than `ms` milliseconds (`work` itself is not cancelled).
 */
export async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
