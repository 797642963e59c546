import { envInt, loadConfig, type ServiceConfigDefinition } from '@conduit/config';

const schema = {
  /** An online device with no telemetry for this long turns `offline` (event published). */
  DEVICE_OFFLINE_AFTER_S: envInt(1, 7 * 86_400),
  /** How often the offline sweep runs. */
  DEVICE_OFFLINE_CHECK_MS: envInt(100, 3_600_000),
  /** Telemetry messages per `last_seen` update transaction. */
  DEVICE_PRESENCE_BATCH_MESSAGES: envInt(1, 10_000),
  DEVICE_PRESENCE_BATCH_WAIT_MS: envInt(1, 60_000),
};

const defaults = {
  HTTP_PORT: '3001',
  DEVICE_OFFLINE_AFTER_S: '300',
  DEVICE_OFFLINE_CHECK_MS: '10000',
  DEVICE_PRESENCE_BATCH_MESSAGES: '500',
  DEVICE_PRESENCE_BATCH_WAIT_MS: '250',
};

export const deviceControlConfigDefinition = {
  serviceName: 'device-control',
  schema,
  presets: { production: defaults, development: defaults, test: defaults },
  map: (env) => ({
    presence: {
      offlineAfterS: env.DEVICE_OFFLINE_AFTER_S,
      offlineCheckMs: env.DEVICE_OFFLINE_CHECK_MS,
      batchMessages: env.DEVICE_PRESENCE_BATCH_MESSAGES,
      batchWaitMs: env.DEVICE_PRESENCE_BATCH_WAIT_MS,
    },
  }),
} satisfies ServiceConfigDefinition<typeof schema, unknown>;

export type DeviceControlConfig = ReturnType<typeof loadDeviceControlConfig>;

/** Validates the environment once at boot; throws ConfigError naming every bad variable. */
export const loadDeviceControlConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(deviceControlConfigDefinition, env);
