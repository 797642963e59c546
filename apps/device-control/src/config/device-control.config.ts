import { envInt, loadConfig, type ServiceConfigDefinition } from '@conduit/config';
import { z } from 'zod';

const schema = {
  /** An online device with no telemetry for this long turns `offline` (event published). */
  DEVICE_OFFLINE_AFTER_S: envInt(1, 7 * 86_400),
  /** How often the offline sweep runs. */
  DEVICE_OFFLINE_CHECK_MS: envInt(100, 3_600_000),
  /** Telemetry messages per `last_seen` update transaction. */
  DEVICE_PRESENCE_BATCH_MESSAGES: envInt(1, 10_000),
  DEVICE_PRESENCE_BATCH_WAIT_MS: envInt(1, 60_000),
  /** Default deadline of a command: undelivered after this many seconds, it expires. */
  DEVICE_COMMAND_TTL_S: envInt(1, 7 * 86_400),
  /** Delivery attempts (vendor failures) before a command fails. */
  DEVICE_COMMAND_MAX_ATTEMPTS: envInt(1, 100),
  /** A sent command with no acknowledgement after this long ends `timeout`. */
  DEVICE_COMMAND_ACK_TIMEOUT_MS: envInt(100, 3_600_000),
  /** How often queued commands are looked for (and deadlines swept). */
  DEVICE_COMMAND_POLL_MS: envInt(10, 60_000),
  /** First retry delay after a vendor failure; doubles per attempt (jittered), at most 60 s. */
  DEVICE_COMMAND_RETRY_BASE_MS: envInt(10, 60_000),
  /** How long a submission waits for its first delivery attempt before answering `queued`. */
  DEVICE_COMMAND_ANSWER_WAIT_MS: envInt(0, 10_000),
  /** Commands delivered at once by one replica. */
  DEVICE_COMMAND_CONCURRENCY: envInt(1, 1_000),
  /** MQTT broker of the `mqtt` vendor integration. */
  MQTT_URL: z.string().regex(/^mqtts?:\/\/.+/, 'an mqtt:// or mqtts:// URL'),
  /**
   * Replicas subscribe to device acks as one MQTT shared subscription of this group, so each ack
   * is handled by one replica. Empty (default): `device-control-<database name>`, so that two
   * deployments on one broker (dev and tests, staging and production) never take each other's
   * acks; `off`: every replica gets every ack (a broker without `$share`).
   */
  MQTT_SHARED_GROUP: z.string().regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, _ or - (or empty)'),
  /** Vendor breakers (one per vendor and site): per-call time-out and opening rules. */
  VENDOR_BREAKER_TIMEOUT_MS: envInt(10, 120_000),
  VENDOR_BREAKER_ERROR_PERCENT: envInt(1, 100),
  VENDOR_BREAKER_VOLUME: envInt(1, 10_000),
  VENDOR_BREAKER_RESET_MS: envInt(10, 600_000),
  VENDOR_BREAKER_WINDOW_MS: envInt(100, 3_600_000),
  VENDOR_BREAKER_HALF_OPEN_CALLS: envInt(1, 100),
};

const defaults = {
  HTTP_PORT: '3001',
  DEVICE_OFFLINE_AFTER_S: '300',
  DEVICE_OFFLINE_CHECK_MS: '10000',
  DEVICE_PRESENCE_BATCH_MESSAGES: '500',
  DEVICE_PRESENCE_BATCH_WAIT_MS: '250',
  DEVICE_COMMAND_TTL_S: '3600',
  DEVICE_COMMAND_MAX_ATTEMPTS: '8',
  DEVICE_COMMAND_ACK_TIMEOUT_MS: '30000',
  DEVICE_COMMAND_POLL_MS: '250',
  DEVICE_COMMAND_RETRY_BASE_MS: '500',
  DEVICE_COMMAND_ANSWER_WAIT_MS: '250',
  DEVICE_COMMAND_CONCURRENCY: '32',
  MQTT_URL: 'mqtt://127.0.0.1:1883',
  MQTT_SHARED_GROUP: '',
  VENDOR_BREAKER_TIMEOUT_MS: '3000',
  VENDOR_BREAKER_ERROR_PERCENT: '50',
  VENDOR_BREAKER_VOLUME: '5',
  VENDOR_BREAKER_RESET_MS: '10000',
  VENDOR_BREAKER_WINDOW_MS: '10000',
  VENDOR_BREAKER_HALF_OPEN_CALLS: '1',
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
    commands: {
      ttlS: env.DEVICE_COMMAND_TTL_S,
      maxAttempts: env.DEVICE_COMMAND_MAX_ATTEMPTS,
      ackTimeoutMs: env.DEVICE_COMMAND_ACK_TIMEOUT_MS,
      pollMs: env.DEVICE_COMMAND_POLL_MS,
      retryBaseMs: env.DEVICE_COMMAND_RETRY_BASE_MS,
      answerWaitMs: env.DEVICE_COMMAND_ANSWER_WAIT_MS,
      concurrency: env.DEVICE_COMMAND_CONCURRENCY,
    },
    vendors: {
      mqttUrl: env.MQTT_URL,
      mqttSharedGroup: env.MQTT_SHARED_GROUP,
      breaker: {
        timeoutMs: env.VENDOR_BREAKER_TIMEOUT_MS,
        errorThresholdPercentage: env.VENDOR_BREAKER_ERROR_PERCENT,
        volumeThreshold: env.VENDOR_BREAKER_VOLUME,
        resetTimeoutMs: env.VENDOR_BREAKER_RESET_MS,
        rollingCountTimeoutMs: env.VENDOR_BREAKER_WINDOW_MS,
        halfOpenMaxCalls: env.VENDOR_BREAKER_HALF_OPEN_CALLS,
      },
    },
  }),
} satisfies ServiceConfigDefinition<typeof schema, unknown>;

export type DeviceControlConfig = ReturnType<typeof loadDeviceControlConfig>;

/** Validates the environment once at boot; throws ConfigError naming every bad variable. */
export const loadDeviceControlConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(deviceControlConfigDefinition, env);
