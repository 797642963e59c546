import type { Server } from 'node:http';
import type { DynamicModule, INestApplication, LoggerService, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, RawServerDefault } from 'fastify';
import { Logger } from 'nestjs-pino';
import { requestIdOf } from './request-id.js';
import { installServerSpans } from './server-span.js';

/** Options of {@link createHttpService}. */
export interface HttpServiceOptions {
  /** Interface to listen on (`0.0.0.0` in a container, `127.0.0.1` locally). */
  readonly host: string;
  /** TCP port; 0 picks a free one (read it from `app.getHttpServer().address()`). */
  readonly port: number;
  /** Largest request body accepted, in bytes (default 1 MiB); a larger one is answered 413. */
  readonly bodyLimitBytes?: number;
  /** Body limits of particular routes (full path, e.g. `/api/v1/telemetry/batch`), overriding `bodyLimitBytes`. */
  readonly routeBodyLimits?: Readonly<Record<string, number>>;
  /**
   * Logger for Nest's own messages (start-up, errors). Default: nestjs-pino's `Logger`, which
   * needs `LoggingModule` imported by `module`.
   */
  readonly logger?: LoggerService;
  /** Setup that needs the app before it listens (e.g. OpenAPI). */
  readonly beforeListen?: (app: INestApplication) => void | Promise<void>;
  /** How long SIGTERM/SIGINT handling may take before the process is forced out with exit 1 (default 25 s). */
  readonly shutdownGraceMs?: number;
  /** Runs after the app closed, before exit (e.g. flush traces). */
  readonly afterClose?: () => Promise<void>;
  /** Install the SIGTERM/SIGINT handlers (default true); tests that own the process pass false. */
  readonly handleSignals?: boolean;
}

/**
 * Creates a Nest app on Fastify (logs buffered until the pino logger is attached), lets
 * `beforeListen` add routes, and listens on `host:port`. Request ids: the caller's
 * `x-request-id` when acceptable, else a UUID (see `LoggingModule`). Every request but probes runs
 * in its HTTP server span (see `installServerSpans`).
 *
 * Shutdown: on SIGTERM/SIGINT it stops accepting connections, lets in-flight requests finish,
 * runs every Nest shutdown hook (`onModuleDestroy`, `beforeApplicationShutdown`,
 * `onApplicationShutdown`: consumers finish their batch, NATS drains, pools close), runs
 * `afterClose`, and exits 0 — or 1 when that fails or outlasts `shutdownGraceMs`. This replaces
 * `app.enableShutdownHooks()`, which runs the same hooks but then re-raises the signal, so the
 * process would end by signal instead of exit 0, and has no grace limit.
 */
export async function createHttpService(
  module: DynamicModule | Type<unknown>,
  options: HttpServiceOptions,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    // Ours, not Fastify's header handling: pino-http must see the same id (requestIdOf memoises).
    requestIdHeader: false,
    genReqId: requestIdOf,
    // Behind the ingress, the client address is in X-Forwarded-For.
    trustProxy: true,
  });
  // First of all hooks: everything after runs inside the request's server span.
  installServerSpans(adapter.getInstance());
  // Before NestFactory.create (which registers middie): hooks added later through
  // `addEarlyRequestHook` run ahead of every Nest middleware.
  const early: EarlyRequestHook[] = [];
  earlyHooks.set(adapter.getInstance(), early);
  adapter.getInstance().addHook('onRequest', (request, reply, done) => {
    if (early.length === 0) {
      done();
      return;
    }
    runEarly(early, 0, request, reply, done);
  });
  const routeLimits = options.routeBodyLimits ?? {};
  if (Object.keys(routeLimits).length) {
    // Before Nest registers its routes (at init), so every route passes through this hook.
    adapter.getInstance().addHook('onRoute', (route) => {
      const limit = routeLimits[route.url];
      if (limit !== undefined) route.bodyLimit = limit;
    });
  }
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { bufferLogs: true });
  // An empty body sent as `application/json` is no body. Generic clients send the header with
  // every request, and Fastify's own parser answered a body-less DELETE with 400 for it. A route
  // that needs a body still refuses one that is missing, in its own validation, naming `body`.
  const parseJson = adapter.getInstance().getDefaultJsonParser('error', 'error');
  app.useBodyParser<RawServerDefault>(
    'application/json',
    { bodyLimit: options.bodyLimitBytes ?? 1024 * 1024 },
    (request, body, done) => {
      if (body.length === 0) done(null, undefined);
      else void parseJson(request, body.toString('utf8'), done);
    },
  );
  const logger = options.logger ?? (await pinoLogger(app));
  app.useLogger(logger);
  await options.beforeListen?.(app);
  await app.listen(options.port, options.host);

  if (options.handleSignals === false) return app;
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal}: draining`);
    const graceMs = options.shutdownGraceMs ?? 25_000;
    const force = setTimeout(() => {
      logger.error(`shutdown exceeded ${graceMs} ms; exiting`);
      process.exit(1);
    }, graceMs);
    force.unref();
    // The listener first: Nest's close() runs the shutdown hooks (NATS drains, pools close)
    // before it closes the HTTP server, which would fail the requests still in flight (503).
    stopListening(app)
      .then(() => app.close())
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

/**
 * A Fastify `onRequest` hook that runs before every Nest middleware (pino-http's request
 * context, body parsing): for answers that need none of them, such as response-cache hits. It
 * must call `done()` to let the request through, or answer it (and then not call `done`).
 */
export type EarlyRequestHook = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: (error?: Error) => void,
) => void;

const earlyHooks = new WeakMap<object, EarlyRequestHook[]>();

function runEarly(
  hooks: readonly EarlyRequestHook[],
  i: number,
  request: FastifyRequest,
  reply: FastifyReply,
  done: (error?: Error) => void,
): void {
  const hook = hooks[i];
  if (!hook) {
    done();
    return;
  }
  hook(request, reply, (error) => (error ? done(error) : runEarly(hooks, i + 1, request, reply, done)));
}

/**
 * Adds an {@link EarlyRequestHook} to a service made by {@link createHttpService} (from any
 * module's `onModuleInit`/`onApplicationBootstrap`, through `HttpAdapterHost`). False when the
 * Fastify instance was not made by `createHttpService` (the hook is then not added).
 */
export function addEarlyRequestHook(fastify: object, hook: EarlyRequestHook): boolean {
  const hooks = earlyHooks.get(fastify);
  if (!hooks) return false;
  hooks.push(hook);
  return true;
}

/**
 * Stops accepting connections and resolves once every request in flight has been answered:
 * idle keep-alive connections are closed at once and again as requests finish.
 */
function stopListening(app: NestFastifyApplication): Promise<void> {
  const server = app.getHttpServer() as Server;
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearInterval(idle);
      resolve();
    });
    server.closeIdleConnections();
  });
}

async function pinoLogger(app: INestApplication): Promise<LoggerService> {
  try {
    return app.get(Logger);
  } catch (error) {
    await app.close();
    throw new Error(
      'createHttpService: import LoggingModule.forRoot(...) in the app module, or pass options.logger',
      {
        cause: error,
      },
    );
  }
}
