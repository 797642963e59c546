// npm run bench -- <scenario> [--duration 10 --rate 1000 --connections 64]   (--help lists them)
// Exit codes: 0 measured (goals may be missed: they are reported), 1 target unreachable or run
// invalid (e.g. > 1 % errors), 2 usage error.
import { parseArgs, UsageError } from './src/args.js';
import { createContext } from './src/context.js';
import { waitForQuiet } from './src/quiet.js';
import { report } from './src/report.js';
import { analytics } from './scenarios/analytics.js';
import { cache } from './scenarios/cache.js';
import { commands } from './scenarios/commands.js';
import { complex } from './scenarios/complex.js';
import { deviceList, gatewayCached } from './scenarios/device-list.js';
import { ingest } from './scenarios/ingest.js';
import { llm } from './scenarios/llm.js';
import { telemetryQuery } from './scenarios/telemetry-query.js';
import type { Scenario } from './scenarios/scenario.js';

const scenarios: readonly Scenario[] = [
  deviceList,
  gatewayCached,
  ingest,
  telemetryQuery,
  cache,
  commands,
  llm,
  complex,
  analytics,
];

function usage(): string {
  const lines = ['usage: npm run bench -- <scenario> [--flag value …]', '', 'scenarios:'];
  for (const s of scenarios) {
    lines.push(`  ${s.name.padEnd(18)} ${s.description}`);
    for (const [flag, help] of Object.entries(s.options ?? {}))
      lines.push(`      --${flag.padEnd(14)} ${help}`);
  }
  lines.push('', 'env: CONDUIT_GATEWAY_URL (default http://127.0.0.1:3000)');
  return lines.join('\n');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log(usage());
    return 0;
  }
  const scenario = scenarios.find((s) => s.name === args.name);
  if (!scenario) {
    console.error(`${args.name ? `unknown scenario '${args.name}'` : 'no scenario given'}\n\n${usage()}`);
    return 2;
  }
  if (scenario.options) {
    const unknown = Object.keys(args.flags).filter((flag) => !(flag in (scenario.options ?? {})));
    if (unknown.length)
      throw new UsageError(`${scenario.name} has no flag ${unknown.map((f) => `--${f}`).join(', ')}`);
  }
  // A scenario measured while the stack still works off an earlier one is not comparable.
  const quiet = await waitForQuiet();
  const result = await scenario.run(createContext(args.flags));
  report(
    scenario.name,
    quiet
      ? {
          ...result,
          params: {
            ...result.params,
            machine_busy_at_start: Math.round(quiet.busy * 1000) / 1000,
            quiet_wait_s: Math.round(quiet.waitedS),
          },
        }
      : result,
  );
  return result.failure === undefined ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(error instanceof UsageError ? `usage: ${message}` : `bench failed: ${message}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
