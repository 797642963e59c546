import { Injectable } from '@nestjs/common';
import { withTimeout } from './readiness.registry.js';

/** One section of a service's performance snapshot (pools, caches, breakers, …). */
export type PerformanceSection = () => unknown;

/**
 * What a service tells `/performance/health` about itself: any module registers a named
 * section (the database lib its pool, a cache its stats, a breaker its state); `snapshot()`
 * gathers them, each bounded by a deadline so one slow section cannot hold the answer.
 */
@Injectable()
export class PerformanceRegistry {
  private readonly sections = new Map<string, PerformanceSection>();

  register(name: string, section: PerformanceSection): void {
    this.sections.set(name, section);
  }

  async snapshot(deadlineMs = 200): Promise<Record<string, unknown>> {
    const entries = await Promise.all(
      [...this.sections].map(async ([name, section]) => {
        try {
          return [name, await withTimeout(Promise.resolve().then(section), deadlineMs)] as const;
        } catch (error) {
          return [name, { error: error instanceof Error ? error.message : String(error) }] as const;
        }
      }),
    );
    return Object.fromEntries(entries);
  }
}
