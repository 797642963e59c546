import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { ConfigError, type BaseConfig } from '@conduit/config';
import { createHttpService } from '@conduit/observability';
import { shutdownTracing } from '@conduit/tracing';

/**
 * Boots a service: validates its config (a bad variable stops start-up with one message naming
 * every bad variable, exit code 1), builds the Nest app on Fastify and listens on HTTP_HOST:HTTP_PORT.
 * SIGTERM then stops consumers, drains NATS, closes pools and exits 0.
 */
export async function runService<C extends BaseConfig>(
  loadConfig: () => C,
  module: (config: C) => DynamicModule | Type<unknown>,
  options: {
    bodyLimitBytes?: (config: C) => number;
    routeBodyLimits?: (config: C) => Readonly<Record<string, number>>;
    /** Route-level setup that must happen before listening (e.g. OpenAPI). */
    beforeListen?: (app: INestApplication) => void | Promise<void>;
  } = {},
): Promise<INestApplication | undefined> {
  let config: C;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 1;
      return undefined;
    }
    throw error;
  }
  return createHttpService(module(config), {
    host: config.http.host,
    port: config.http.port,
    bodyLimitBytes: options.bodyLimitBytes?.(config),
    routeBodyLimits: options.routeBodyLimits?.(config),
    beforeListen: options.beforeListen,
    shutdownGraceMs: config.shutdownGraceMs,
    afterClose: shutdownTracing,
  });
}
