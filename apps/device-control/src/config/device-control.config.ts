import { loadConfig, type ServiceConfigDefinition } from '@conduit/config';

const schema = {};

export const deviceControlConfigDefinition = {
  serviceName: 'device-control',
  schema,
  presets: {
    production: { HTTP_PORT: '3001' },
    development: { HTTP_PORT: '3001' },
    test: { HTTP_PORT: '3001' },
  },
  map: () => ({}),
} satisfies ServiceConfigDefinition<typeof schema, unknown>;

export type DeviceControlConfig = ReturnType<typeof loadDeviceControlConfig>;

/** Validates the environment once at boot; throws ConfigError naming every bad variable. */
export const loadDeviceControlConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(deviceControlConfigDefinition, env);
