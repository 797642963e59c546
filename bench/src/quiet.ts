import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** CPU time counters of the whole machine (the `cpu` line of /proc/stat), in clock ticks. */
export interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

/** Parses the aggregate `cpu` line of /proc/stat; undefined when it is not there (not Linux). */
export function parseCpuTimes(procStat: string): CpuTimes | undefined {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  // user nice system idle iowait irq softirq steal guest guest_nice — guest time is already
  // counted in user and nice, so it is left out of the total.
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number) as number[];
  const idleAll = (idle ?? 0) + (iowait ?? 0);
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return { busy, total: busy + idleAll };
}

/** The share (0–1) of all cores' time that was busy between two readings. */
export function busyShare(before: CpuTimes, after: CpuTimes): number {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}

/** The machine's CPU counters now (undefined where /proc/stat is not there). */
export const readTimes = (): CpuTimes | undefined => {
  try {
    return parseCpuTimes(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
};

export interface QuietResult {
  /** Busy share of the last window before the scenario started. */
  readonly busy: number;
  readonly waitedS: number;
  /** False when the machine never got quiet within the wait (the run goes on, flagged). */
  readonly quiet: boolean;
}

/**
 * Waits until the machine has been quiet (under `threshold` of all cores busy over a `windowMs`
 * window) for at most `maxWaitMs`. A scenario started while a service still works off an earlier
 * one (analytics consuming an ingest bench's 2 M points took over a minute) measured 10–25 % less,
 * and the llm overhead tripled. `BENCH_QUIET_WAIT_S=0` skips the wait.
 */
export async function waitForQuiet(
  options: { threshold?: number; windowMs?: number; maxWaitMs?: number } = {},
): Promise<QuietResult | undefined> {
  const threshold = options.threshold ?? 0.1;
  const windowMs = options.windowMs ?? 2_000;
  const maxWaitMs = options.maxWaitMs ?? Number(process.env['BENCH_QUIET_WAIT_S'] ?? 180) * 1000;
  if (maxWaitMs <= 0 || readTimes() === undefined) return undefined;
  const started = performance.now();
  let announced = false;
  for (;;) {
    const before = readTimes() as CpuTimes;
    await sleep(windowMs);
    const busy = busyShare(before, readTimes() as CpuTimes);
    const waitedS = (performance.now() - started) / 1000;
    if (busy < threshold) return { busy, waitedS, quiet: true };
    if (performance.now() - started >= maxWaitMs) {
      console.warn(`the machine is still ${Math.round(busy * 100)} % busy: measuring anyway`);
      return { busy, waitedS, quiet: false };
    }
    if (!announced) {
      console.log(
        `waiting for the machine to be quiet (${Math.round(busy * 100)} % busy; BENCH_QUIET_WAIT_S=0 skips)`,
      );
      announced = true;
    }
  }
}
