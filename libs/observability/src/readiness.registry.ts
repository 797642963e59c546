import { Injectable } from '@nestjs/common';

/** One readiness check: resolves when the dependency answers, rejects (with why) when it does not. */
export interface ReadinessCheck {
  readonly name: string;
  readonly check: () => Promise<void>;
  readonly timeoutMs: number;
}

/**
 * The dependencies `/readyz` checks. Apps and libs register theirs at module init (NATS,
 * Postgres through PgBouncer, Redis where used); all run in parallel, each with its time-out.
 */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(name: string, check: () => Promise<void>, options: { timeoutMs?: number } = {}): void {
    this.checks.set(name, { name, check, timeoutMs: options.timeoutMs ?? 1_000 });
  }

  list(): readonly ReadinessCheck[] {
    return [...this.checks.values()];
  }
}

/** Rejects when `work` takes longer than `ms`. */
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
