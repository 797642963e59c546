// npm run bench -- <scenario> [--duration 10 --rate 1000 --connections 64]
import { createContext } from './src/context.js';
import { report } from './src/report.js';
import { deviceList } from './scenarios/device-list.js';
import { ingest } from './scenarios/ingest.js';
import type { Scenario } from './scenarios/scenario.js';

const scenarios: readonly Scenario[] = [deviceList, ingest];

function parse(argv: string[]): { name?: string; flags: Record<string, string> } {
  const flags: Record<string, string> = {};
  let name: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg.startsWith('--')) flags[arg.slice(2)] = argv[++i] ?? 'true';
    else name ??= arg;
  }
  return { name, flags };
}

const { name, flags } = parse(process.argv.slice(2));
const scenario = scenarios.find((s) => s.name === name);
if (!scenario) {
  console.log('usage: npm run bench -- <scenario> [--duration s --rate n --connections n]\n\nscenarios:');
  for (const s of scenarios) console.log(`  ${s.name.padEnd(16)} ${s.description}`);
  process.exit(name && name !== '--help' ? 2 : 0);
}
try {
  report(scenario.name, await scenario.run(createContext(flags)));
} catch (error) {
  console.error(`bench ${scenario.name} failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
