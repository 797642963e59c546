import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './context.js';

/** Resident set size of a process in MiB (Linux /proc), or undefined when it is not there. */
export function rssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Pid of a service started by `npm run up`. */
export function servicePid(service: string): number | undefined {
  const file = join(ROOT, '.conduit/run', `${service}.pid`);
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : undefined;
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak. */
export function sampleRss(pid: number | undefined, everyMs = 250): { stop(): number | undefined } {
  let peak: number | undefined;
  const timer = setInterval(() => {
    const now = pid === undefined ? undefined : rssMiB(pid);
    if (now !== undefined) peak = Math.max(peak ?? 0, now);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}
