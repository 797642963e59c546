/** The command line of `npm run bench -- <scenario> [--name value | --name=value | --switch]`. */
export interface BenchArgs {
  /** The scenario, the first word that is not a flag. */
  readonly name?: string;
  /** `--help` or `-h` anywhere. */
  readonly help: boolean;
  /** Every other `--name`, with its value; a flag with no value (last, or before another flag) is `'true'`. */
  readonly flags: Readonly<Record<string, string>>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const flags: Record<string, string> = {};
  let name: string | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') {
      help = true;
    } else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const key = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (!key) throw new UsageError(`bad flag '${arg}'`);
      const next = argv[i + 1];
      if (eq !== -1) flags[key] = arg.slice(eq + 1);
      else if (next !== undefined && !next.startsWith('--')) flags[key] = argv[++i] ?? '';
      else flags[key] = 'true';
    } else if (name === undefined) {
      name = arg;
    } else {
      throw new UsageError(`unexpected argument '${arg}' (one scenario per run)`);
    }
  }
  return { name, help, flags };
}

/** A flag's value as a positive finite number, or `fallback` when the flag is absent. */
export function positiveNumber(
  flags: Readonly<Record<string, string>>,
  name: string,
  fallback: number,
): number {
  const raw = flags[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (raw === '' || !Number.isFinite(value) || value <= 0)
    throw new UsageError(`--${name} must be a positive number (got '${raw}')`);
  return value;
}
