import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './context.js';

/** A goal and whether this run met it. */
export interface Goal {
  readonly target: string;
  readonly actual: number;
  readonly met: boolean;
}

export interface ScenarioResult {
  readonly params: Readonly<Record<string, unknown>>;
  readonly metrics: Readonly<Record<string, number>>;
  readonly goals: Readonly<Record<string, Goal>>;
}

/** `{ target: '< 25', actual, met }` for a goal that the actual must stay below. */
export const below = (actual: number, limit: number): Goal => ({
  target: `< ${limit}`,
  actual,
  met: actual < limit,
});
/** `{ target: '>= x', actual, met }` for a goal that the actual must reach. */
export const atLeast = (actual: number, limit: number): Goal => ({
  target: `>= ${limit}`,
  actual,
  met: actual >= limit,
});

export function machine(): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    mem_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** Writes bench/results/<scenario>.json and prints the metrics and goals as tables. */
export function report(scenario: string, result: ScenarioResult): string {
  const out = { scenario, when: new Date().toISOString(), machine: machine(), ...result };
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${scenario}.json`);
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\n${scenario}`);
  console.table(result.metrics);
  console.table(
    Object.fromEntries(
      Object.entries(result.goals).map(([k, g]) => [k, { target: g.target, actual: g.actual, met: g.met }]),
    ),
  );
  console.log(`written to ${file}`);
  return file;
}
