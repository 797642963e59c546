import { ConfigError, type ConfigIssue } from '@conduit/config';
import { z } from 'zod';

/** Options of one breaker. Times are milliseconds. */
export interface BreakerOptions {
  /** Time-out of each call: at this time the call's `AbortSignal` is aborted and the call fails with `BreakerTimeoutError`. */
  readonly timeoutMs: number;
  /** Opens when failures (time-outs included) exceed this percentage of the calls in the rolling window (strictly: 50 opens at 51 %). */
  readonly errorThresholdPercentage: number;
  /** Calls the rolling window must hold before the breaker may open; below it no error rate opens it. */
  readonly volumeThreshold: number;
  /** How long the breaker stays open before it lets trial calls through (half-open). */
  readonly resetTimeoutMs: number;
  /** Length of the rolling window the error rate is computed over. */
  readonly rollingCountTimeoutMs: number;
  /** Buckets the window is divided into (10): it slides by `rollingCountTimeoutMs / rollingCountBuckets`. */
  readonly rollingCountBuckets?: number;
  /** Trial calls allowed to run concurrently while half-open (1); further calls are refused at once. */
  readonly halfOpenMaxCalls?: number;
}

/** {@link BreakerOptions} with every default applied, as a breaker runs with them. */
export type ResolvedBreakerOptions = Required<BreakerOptions>;

/** Defaults of the optional {@link BreakerOptions}. */
export const BREAKER_OPTION_DEFAULTS = { rollingCountBuckets: 10, halfOpenMaxCalls: 1 } as const;

// Node turns a longer timer into a 1 ms one.
const MAX_TIMER_MS = 2_147_483_647;
const ms = () => z.coerce.number().int().min(1).max(MAX_TIMER_MS);

// Coercing, so that the same schema reads JSON numbers and environment strings. No `.default()`:
// the partial schema of overrides must not fill in defaults over the registry's own.
const shape = {
  timeoutMs: ms(),
  errorThresholdPercentage: z.coerce.number().min(0).max(100),
  volumeThreshold: z.coerce.number().int().min(0),
  resetTimeoutMs: ms(),
  rollingCountTimeoutMs: ms(),
  rollingCountBuckets: z.coerce.number().int().min(1).optional(),
  halfOpenMaxCalls: z.coerce.number().int().min(1).optional(),
};
const base = z.object(shape);

/**
 * Validates complete {@link BreakerOptions} (numbers or numeric strings), e.g. an app's default
 * options in its config. A window bucket must last at least 1 ms.
 */
export const breakerOptionsSchema = base.superRefine((o, ctx) => {
  const buckets = o.rollingCountBuckets ?? BREAKER_OPTION_DEFAULTS.rollingCountBuckets;
  if (Math.floor(o.rollingCountTimeoutMs / buckets) < 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['rollingCountBuckets'],
      message: 'at most rollingCountTimeoutMs buckets (each must last at least 1 ms)',
    });
  }
});

/** Validates per-dependency overrides: any subset of {@link BreakerOptions}. */
export const breakerOverridesSchema = base.partial();

/**
 * Validates `options`, applies the defaults and returns them frozen. Throws a `RangeError`
 * naming every invalid option of breaker `name`.
 */
export function resolveBreakerOptions(name: string, options: BreakerOptions): ResolvedBreakerOptions {
  const parsed = breakerOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '?'} (${i.message})`);
    throw new RangeError(`invalid options for circuit breaker "${name}": ${issues.join('; ')}`);
  }
  return Object.freeze({ ...BREAKER_OPTION_DEFAULTS, ...parsed.data });
}

const ENV_SUFFIXES = {
  timeoutMs: 'TIMEOUT_MS',
  errorThresholdPercentage: 'ERROR_THRESHOLD_PERCENTAGE',
  volumeThreshold: 'VOLUME_THRESHOLD',
  resetTimeoutMs: 'RESET_TIMEOUT_MS',
  rollingCountTimeoutMs: 'ROLLING_COUNT_TIMEOUT_MS',
  rollingCountBuckets: 'ROLLING_COUNT_BUCKETS',
  halfOpenMaxCalls: 'HALF_OPEN_MAX_CALLS',
} as const satisfies Record<keyof BreakerOptions, string>;

/**
 * Reads the overrides one dependency's breaker takes from the environment: `<prefix>TIMEOUT_MS`,
 * `<prefix>ERROR_THRESHOLD_PERCENTAGE`, `<prefix>VOLUME_THRESHOLD`, `<prefix>RESET_TIMEOUT_MS`,
 * `<prefix>ROLLING_COUNT_TIMEOUT_MS`, `<prefix>ROLLING_COUNT_BUCKETS`, `<prefix>HALF_OPEN_MAX_CALLS`.
 * Unset or empty variables are left out (the registry's defaults apply); an invalid one throws a
 * `ConfigError` naming every bad variable, never its value.
 *
 * @example breakerOptionsFromEnv('BREAKER_PAYMENTS_') // { timeoutMs: 2000 } from BREAKER_PAYMENTS_TIMEOUT_MS=2000
 */
export function breakerOptionsFromEnv(
  prefix: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Partial<BreakerOptions> {
  const raw: Record<string, string> = {};
  for (const [key, suffix] of Object.entries(ENV_SUFFIXES)) {
    const value = env[`${prefix}${suffix}`];
    if (value !== undefined && value.trim() !== '') raw[key] = value.trim();
  }
  const parsed = breakerOverridesSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues: ConfigIssue[] = parsed.error.issues.map((i) => {
    const key = String(i.path[0]) as keyof BreakerOptions;
    return { variable: `${prefix}${ENV_SUFFIXES[key]}`, expected: i.message };
  });
  throw new ConfigError(issues, `circuit breaker options (${prefix}*)`);
}
