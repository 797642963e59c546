import type { BenchContext } from '../src/context.js';
import type { ScenarioResult } from '../src/report.js';

/** One benchmark: `npm run bench -- <name> [--flags]`, registered in `bench/run.ts`. */
export interface Scenario {
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /**
   * The flags it reads, with a one-line help each (`{ duration: 'seconds per phase (10)' }`).
   * When given, `--help` lists them and any other flag is rejected before the run starts.
   */
  readonly options?: Readonly<Record<string, string>>;
  /**
   * Runs against the stack. Throw when the target cannot be measured at all (unreachable);
   * return `failure` when the measurement is invalid (too many errors) so the numbers are
   * still written.
   */
  run(ctx: BenchContext): Promise<ScenarioResult>;
}
