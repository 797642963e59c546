import { loadConfig, type ServiceConfigDefinition } from '@conduit/config';

const schema = {};

export const llmExperimentsConfigDefinition = {
  serviceName: 'llm-experiments',
  schema,
  presets: {
    production: { HTTP_PORT: '3004' },
    development: { HTTP_PORT: '3004' },
    test: { HTTP_PORT: '3004' },
  },
  map: () => ({}),
} satisfies ServiceConfigDefinition<typeof schema, unknown>;

export type LlmExperimentsConfig = ReturnType<typeof loadLlmExperimentsConfig>;

/** Validates the environment once at boot; throws ConfigError naming every bad variable. */
export const loadLlmExperimentsConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(llmExperimentsConfigDefinition, env);
