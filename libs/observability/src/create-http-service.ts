import { randomUUID } from 'node:crypto';
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';

export interface HttpServiceOptions {
  readonly host: string;
  readonly port: number;
  /** Largest request body accepted, in bytes (default 1 MiB); larger answers 413. */
  readonly bodyLimitBytes?: number;
  /** Setup needing the app before it listens (e.g. OpenAPI). */
  readonly beforeListen?: (app: INestApplication) => void | Promise<void>;
  /** How long SIGTERM may take before the process is forced out (exit 1). */
  readonly shutdownGraceMs?: number;
  /** Runs after the app closed (e.g. flush traces). */
  readonly afterClose?: () => Promise<void>;
  /** Install the SIGTERM/SIGINT handlers that close the app and exit (default true; tests pass false). */
  readonly handleSignals?: boolean;
}

/**
 * Creates a Nest app on Fastify with the pino logger and listens. On SIGTERM/SIGINT it stops
 * accepting connections, lets in-flight requests finish, runs every shutdown hook (consumers
 * finish their batch, NATS drains, pools close) and exits 0 — or 1 when that outlasts the grace.
 */
export async function createHttpService(
  module: DynamicModule | Type<unknown>,
  options: HttpServiceOptions,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    trustProxy: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { bufferLogs: true });
  const logger = app.get(Logger);
  app.useLogger(logger);
  await options.beforeListen?.(app);
  await app.listen(options.port, options.host);

  if (options.handleSignals === false) return app;
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal}: draining`);
    const force = setTimeout(() => {
      logger.error(`shutdown exceeded ${options.shutdownGraceMs} ms; exiting`);
      process.exit(1);
    }, options.shutdownGraceMs ?? 25_000);
    force.unref();
    app
      .close()
      .then(() => options.afterClose?.())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error(`shutdown failed: ${String(error)}`);
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  return app;
}
