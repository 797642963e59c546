import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine } from './machine.js';
import { ROOT } from './paths.js';

/** A goal and whether this run met it. */
export interface Goal {
  /** The condition, e.g. `< 25`. */
  readonly target: string;
  readonly actual: number;
  readonly met: boolean;
}

export interface ScenarioResult {
  /** What the run was asked to do (durations, rates, sizes…). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly metrics: Readonly<Record<string, number>>;
  /** Missed goals are reported, not failures: the run still exits 0. */
  readonly goals: Readonly<Record<string, Goal>>;
  /**
   * Set when the measurement itself is not valid (e.g. more than 1 % errors): the report is still
   * written, with this reason, and the run exits 1.
   */
  readonly failure?: string;
}

/** `{ target: '< limit', actual, met }`: the actual must stay below the limit. */
export const below = (actual: number, limit: number): Goal => ({
  target: `< ${limit}`,
  actual,
  met: actual < limit,
});

/** `{ target: '>= limit', actual, met }`: the actual must reach the limit. */
export const atLeast = (actual: number, limit: number): Goal => ({
  target: `>= ${limit}`,
  actual,
  met: actual >= limit,
});

/** A failure reason when `errors` exceed `maxShare` (default 1 %) of `requests`, else undefined. */
export function errorShareFailure(
  phase: string,
  errors: number,
  requests: number,
  maxShare = 0.01,
): string | undefined {
  const total = Math.max(1, requests);
  if (errors / total <= maxShare) return undefined;
  return `${phase}: ${errors} errors in ${requests} requests (${((100 * errors) / total).toFixed(1)} % > ${100 * maxShare} %)`;
}

/** The JSON written for a run: `{ scenario, when, machine, params, metrics, goals[, failure] }`. */
export function resultDocument(scenario: string, result: ScenarioResult, when = new Date()) {
  return {
    scenario,
    when: when.toISOString(),
    machine: machine(),
    params: result.params,
    metrics: result.metrics,
    goals: result.goals,
    ...(result.failure === undefined ? {} : { failure: result.failure }),
  };
}

/** Writes `bench/results/<scenario>.json` and prints params, metrics and goals as tables. */
export function report(scenario: string, result: ScenarioResult, dir = join(ROOT, 'bench/results')): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${scenario}.json`);
  writeFileSync(file, `${JSON.stringify(resultDocument(scenario, result), null, 2)}\n`);
  console.log(`\n${scenario}  ${JSON.stringify(result.params)}`);
  console.table(result.metrics);
  console.table(result.goals);
  if (result.failure !== undefined) console.error(`INVALID RUN: ${result.failure}`);
  console.log(`written to ${file}`);
  return file;
}
