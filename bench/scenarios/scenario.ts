import type { BenchContext } from '../src/context.js';
import type { ScenarioResult } from '../src/report.js';

/** One benchmark: `npm run bench -- <name>`. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}
