import { loadConfig, type ServiceConfigDefinition } from '@conduit/config';

const schema = {};

export const analyticsConfigDefinition = {
  serviceName: 'analytics',
  schema,
  presets: {
    production: { HTTP_PORT: '3003' },
    development: { HTTP_PORT: '3003' },
    test: { HTTP_PORT: '3003' },
  },
  map: () => ({}),
} satisfies ServiceConfigDefinition<typeof schema, unknown>;

export type AnalyticsConfig = ReturnType<typeof loadAnalyticsConfig>;

/** Validates the environment once at boot; throws ConfigError naming every bad variable. */
export const loadAnalyticsConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(analyticsConfigDefinition, env);
