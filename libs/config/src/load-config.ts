import { z } from 'zod';
import { BASE_PRESETS, baseEnvSchema, mapBaseConfig, type BaseConfig, type BaseEnv } from './base.config.js';
import { ConfigError, type ConfigIssue } from './config.error.js';
import { PRESETS, type Preset } from './env.js';

type Env = Readonly<Record<string, string | undefined>>;

/** What an app declares on top of the base: its own variables, preset defaults and mapping. */
export interface ServiceConfigDefinition<S extends z.ZodRawShape, C> {
  /** Used in error messages and as the OpenTelemetry `service.name`. */
  readonly serviceName: string;
  /** The app's own variables (keys are variable names). */
  readonly schema: S;
  /** Defaults per preset for base and own variables, as strings (as the environment would hold them). */
  readonly presets: Record<Preset, Partial<Record<keyof BaseEnv | keyof S, string>>>;
  /** Builds the app's nested config section from its validated variables. */
  readonly map: (env: z.infer<z.ZodObject<S>>) => C;
}

/** The preset named by `CONDUIT_PRESET`, else `NODE_ENV`, else `development`. */
export function resolvePreset(env: Env): Preset {
  const raw = env['CONDUIT_PRESET'] ?? env['NODE_ENV'] ?? 'development';
  if ((PRESETS as readonly string[]).includes(raw)) return raw as Preset;
  throw new ConfigError(
    [
      {
        variable: env['CONDUIT_PRESET'] ? 'CONDUIT_PRESET' : 'NODE_ENV',
        expected: `one of ${PRESETS.join(', ')}`,
      },
    ],
    'conduit',
  );
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.input === undefined) return `required (${issue.expected})`;
  return issue.message;
}

/**
 * Validates the environment once and returns `{ ...base, service }`. Throws {@link ConfigError}
 * naming every bad variable and what it expects; values are never printed (they may be secrets).
 */
export function loadConfig<S extends z.ZodRawShape, C>(
  def: ServiceConfigDefinition<S, C>,
  env: Env = process.env,
): BaseConfig & { readonly service: C } {
  const preset = resolvePreset(env);
  const defaults: Record<string, string | undefined> = { ...BASE_PRESETS[preset], ...def.presets[preset] };
  const merged: Record<string, string | undefined> = {};
  const schema = baseEnvSchema.extend(def.schema);
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    merged[key] = value === undefined || value === '' ? defaults[key] : value;
  }
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issues: ConfigIssue[] = parsed.error.issues.map((i) => ({
      variable: String(i.path[0] ?? '?'),
      expected: describe(i),
    }));
    throw new ConfigError(issues, def.serviceName);
  }
  const data = parsed.data as BaseEnv & z.infer<z.ZodObject<S>>;
  return { ...mapBaseConfig(data, preset, def.serviceName), service: def.map(data) };
}
