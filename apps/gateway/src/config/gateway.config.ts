import { envInt, loadConfig, type ServiceConfigDefinition } from '@conduit/config';
import { z } from 'zod';

const schema = {
  /** Org used when a request has no x-org-id (development only; unset in production). */
  GATEWAY_DEV_ORG_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/, 'an org id (letters, digits, _ or -)')
    .optional(),
  GATEWAY_BODY_LIMIT_BYTES: envInt(1024, 256 * 1024 * 1024),
};

export const gatewayConfigDefinition = {
  serviceName: 'gateway',
  schema,
  presets: {
    production: { HTTP_PORT: '3000', GATEWAY_BODY_LIMIT_BYTES: '1048576' },
    development: { HTTP_PORT: '3000', GATEWAY_BODY_LIMIT_BYTES: '1048576', GATEWAY_DEV_ORG_ID: 'dev-org' },
    test: { HTTP_PORT: '3000', GATEWAY_BODY_LIMIT_BYTES: '1048576', GATEWAY_DEV_ORG_ID: 'dev-org' },
  },
  map: (env) => ({ devOrgId: env.GATEWAY_DEV_ORG_ID, bodyLimitBytes: env.GATEWAY_BODY_LIMIT_BYTES }),
} satisfies ServiceConfigDefinition<typeof schema, unknown>;

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

/** Validates the environment once at boot; throws ConfigError naming every bad variable. */
export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(gatewayConfigDefinition, env);
