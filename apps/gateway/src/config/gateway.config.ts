import { envInt, loadConfig, type ServiceConfigDefinition } from '@conduit/config';
import { z } from 'zod';

const schema = {
  /** Org used when a request has no x-org-id (development only; unset in production). */
  GATEWAY_DEV_ORG_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/, 'an org id (letters, digits, _ or -)')
    .optional(),
  /** Largest request body (a 100 000-point batch is ~8 MB). Larger answers 413. */
  GATEWAY_BODY_LIMIT_BYTES: envInt(1024, 256 * 1024 * 1024),
  TELEMETRY_MAX_POINTS_PER_REQUEST: envInt(1, 1_000_000),
  /** Points per JetStream message: ~1 000 keeps NATS far from being the bottleneck. */
  TELEMETRY_POINTS_PER_MESSAGE: envInt(1, 10_000),
};

export const gatewayConfigDefinition = {
  serviceName: 'gateway',
  schema,
  presets: {
    production: {
      HTTP_PORT: '3000',
      GATEWAY_BODY_LIMIT_BYTES: '16777216',
      TELEMETRY_MAX_POINTS_PER_REQUEST: '100000',
      TELEMETRY_POINTS_PER_MESSAGE: '1000',
    },
    development: {
      HTTP_PORT: '3000',
      GATEWAY_BODY_LIMIT_BYTES: '16777216',
      TELEMETRY_MAX_POINTS_PER_REQUEST: '100000',
      TELEMETRY_POINTS_PER_MESSAGE: '1000',
      GATEWAY_DEV_ORG_ID: 'dev-org',
    },
    test: {
      HTTP_PORT: '3000',
      GATEWAY_BODY_LIMIT_BYTES: '16777216',
      TELEMETRY_MAX_POINTS_PER_REQUEST: '100000',
      TELEMETRY_POINTS_PER_MESSAGE: '1000',
      GATEWAY_DEV_ORG_ID: 'dev-org',
    },
  },
  map: (env) => ({
    devOrgId: env.GATEWAY_DEV_ORG_ID,
    bodyLimitBytes: env.GATEWAY_BODY_LIMIT_BYTES,
    ingest: {
      maxPointsPerRequest: env.TELEMETRY_MAX_POINTS_PER_REQUEST,
      pointsPerMessage: env.TELEMETRY_POINTS_PER_MESSAGE,
    },
  }),
} satisfies ServiceConfigDefinition<typeof schema, unknown>;

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

/** Validates the environment once at boot; throws ConfigError naming every bad variable. */
export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(gatewayConfigDefinition, env);
