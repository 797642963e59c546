import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time per process group over a phase, from Linux /proc: what each part of the stack costs
 * per request. A fixed-rate latency goal depends on the machine having CPU to spare at that
 * rate; these numbers say which process spends it.
 */

/** The groups a process is counted in, by its command line; everything else is `other`. */
const GROUPS: readonly (readonly [string, RegExp])[] = [
  ['gateway', /dist\/apps\/gateway\//],
  ['device_control', /dist\/apps\/device-control\//],
  ['telemetry', /dist\/apps\/telemetry\//],
  ['analytics', /dist\/apps\/analytics\//],
  ['llm_experiments', /dist\/apps\/llm-experiments\//],
  ['postgres', /^postgres(:|\s|$)|\/postgres\s/],
  ['pgbouncer', /(^|\/)pgbouncer(\s|$)/],
  ['nats', /(^|\/)nats-server(\s|$)/],
  ['redis', /(^|\/)redis-server(\s|$)/],
  ['bench', /dist\/bench\/run\.js/],
];

export const processGroup = (cmdline: string): string =>
  GROUPS.find(([, pattern]) => pattern.test(cmdline))?.[0] ?? 'other';

/**
 * User + system clock ticks of a process from its `/proc/<pid>/stat` line. The command name (field
 * 2) is in parentheses and may hold spaces and parentheses itself, so fields are counted after
 * its last `)`.
 */
export function parseProcessTicks(stat: string): number | undefined {
  const end = stat.lastIndexOf(')');
  if (end < 0) return undefined;
  // After the name: state(3) ppid(4) … utime(14) stime(15), i.e. positions 11 and 12 here.
  const fields = stat.slice(end + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined;
}

export interface ProcessReading {
  readonly group: string;
  readonly ticks: number;
}

/** Every process's group and CPU ticks now (empty where /proc is not there). */
export function readProcesses(): Map<number, ProcessReading> {
  const out = new Map<number, ProcessReading>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ticks = parseProcessTicks(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (ticks === undefined) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      out.set(Number(entry), { group: processGroup(cmdline), ticks });
    } catch {
      // Gone between the listing and the read.
    }
  }
  return out;
}

/**
 * Clock ticks per second of /proc's counters (`getconf CLK_TCK`): 100 on every Linux
 * architecture Node runs on; Node does not expose sysconf.
 */
const TICKS_PER_S = 100;

/**
 * CPU milliseconds each group spent between two readings, divided by `units` (requests done in
 * between), rounded to 0.01; with `total`. A process started in between counts from zero; one
 * that ended in between is not counted (its last ticks are not readable).
 */
export function cpuMsPerUnit(
  before: ReadonlyMap<number, ProcessReading>,
  after: ReadonlyMap<number, ProcessReading>,
  units: number,
): Record<string, number> {
  const ms: Record<string, number> = {};
  let total = 0;
  for (const [pid, now] of after) {
    const then = before.get(pid);
    const ticks = now.ticks - (then?.group === now.group ? then.ticks : 0);
    if (ticks <= 0) continue;
    const spent = (ticks * 1000) / TICKS_PER_S;
    ms[now.group] = (ms[now.group] ?? 0) + spent;
    total += spent;
  }
  const per = (v: number) => (units > 0 ? Math.round((v / units) * 100) / 100 : 0);
  const out: Record<string, number> = {};
  for (const [group, v] of Object.entries(ms).sort((a, b) => b[1] - a[1])) out[group] = per(v);
  out['total'] = per(total);
  return out;
}
