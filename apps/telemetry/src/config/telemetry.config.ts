import { loadConfig, type ServiceConfigDefinition } from '@conduit/config';

const schema = {};

export const telemetryConfigDefinition = {
  serviceName: 'telemetry',
  schema,
  presets: {
    production: { HTTP_PORT: '3002' },
    development: { HTTP_PORT: '3002' },
    test: { HTTP_PORT: '3002' },
  },
  map: () => ({}),
} satisfies ServiceConfigDefinition<typeof schema, unknown>;

export type TelemetryConfig = ReturnType<typeof loadTelemetryConfig>;

/** Validates the environment once at boot; throws ConfigError naming every bad variable. */
export const loadTelemetryConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(telemetryConfigDefinition, env);
