// No relative imports in this file: the ESM child-process test (start-tracing.int-spec.ts) loads
// it straight with Node's type stripping, which does not map `./x.js` to `./x.ts`.

/** What {@link startTracing} needs; read from the environment by {@link tracingOptionsFromEnv}. */
export interface TracingOptions {
  /** `service.name` of every span. */
  readonly serviceName: string;
  /**
   * OTLP/HTTP base URL (e.g. `http://jaeger:4318`); spans go to `<otlpEndpoint>/v1/traces`.
   * Absent: nothing is exported, but trace ids are still made and propagated.
   */
  readonly otlpEndpoint?: string;
  /** Share of new root traces sampled, 0–1; a request arriving sampled stays sampled (parent-based). */
  readonly samplerRatio: number;
  /**
   * Server spans for incoming HTTP requests from the http instrumentation (default true). Our
   * services pass false: their Fastify hooks make those spans (`installServerSpans` in
   * `@conduit/observability`) for a fraction of the instrumentation's per-request cost.
   */
  readonly incomingHttp?: boolean;
}

/** A running tracing SDK. */
export interface TracingHandle {
  /** Exports the spans still buffered, then stops the SDK. Resolves even when the exporter is down. */
  shutdown(): Promise<void>;
}

let running: TracingHandle | undefined;

/** Probes and scrapes make no spans: they would be most of the traces and tell nothing. */
const QUIET = /^\/(health|readyz|metrics)(\?|$)/;

/**
 * Registers the import-in-the-middle loader hook, so that modules imported from ESM are patched
 * too: without it only `require()`d modules are, which misses e.g. `import Redis from 'ioredis'`
 * (start-tracing.int-spec.ts shows it). Only the modules an instrumentation names are intercepted
 * (`include`): intercepting every module, as a plain `module.register(hook.mjs)` does, cost ≈ 75 MB
 * RSS and ≈ 1 s of start-up on a small ESM program here; restricted and in-thread, nothing
 * measurable. In-thread (`module.registerHooks`) needs Node ≥ 24.11.1; older releases get the
 * off-thread loader with the same `include` list.
 */
async function registerEsmHook(modules: readonly string[]): Promise<void> {
  const include = [...new Set(modules)];
  const iitm = await import('import-in-the-middle/register-hooks.mjs');
  if (iitm.supportsSyncHooks()) {
    iitm.register({ include });
    return;
  }
  const { register } = await import('node:module');
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include } });
}

/**
 * Starts the OpenTelemetry NodeSDK for this process. Call it from the module given to
 * `node --import`, before NestJS or any driver is imported: it registers the ESM loader hook and
 * the instrumentations (http/https server and client, pg, ioredis, undici for `fetch`), and
 * everything is imported dynamically so that importing this lib loads no instrumented module.
 *
 * Sampling: parent-based, new roots sampled at `samplerRatio`. With no endpoint every new root
 * is unsampled: spans still get ids (log lines carry `trace_id`, `traceparent` is propagated
 * with the sampled flag off) but recording spans nobody reads would cost CPU on every request.
 * Propagation: W3C trace context only (`traceparent`/`tracestate`), whatever `OTEL_PROPAGATORS`
 * says. Logs and metrics are not exported by the SDK (pino writes logs, prom-client serves
 * metrics). Idempotent: a second call returns the running handle.
 */
export async function startTracing(options: TracingOptions): Promise<TracingHandle> {
  if (running) return running;
  process.env['OTEL_LOGS_EXPORTER'] ??= 'none';
  process.env['OTEL_METRICS_EXPORTER'] ??= 'none';

  // Only the instrumentations we use, one by one: the auto-instrumentations bundle loads dozens
  // more (cloud SDKs, databases we do not run) for ≈ 100 MB of RSS in every process. fs, dns and
  // net are left out on purpose (a span per syscall). Fastify has none for v5 here: the route
  // reaches the HTTP server span through @conduit/observability's Fastify hook instead.
  const [
    { NodeSDK },
    { OTLPTraceExporter },
    sdkTrace,
    { resourceFromAttributes },
    { W3CTraceContextPropagator },
    { HttpInstrumentation },
    { PgInstrumentation },
    { IORedisInstrumentation },
    { UndiciInstrumentation },
  ] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/core'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@opentelemetry/instrumentation-undici'),
  ]);
  const instrumentations = [
    new HttpInstrumentation({
      disableIncomingRequestInstrumentation: options.incomingHttp === false,
      ignoreIncomingRequestHook: (req) => QUIET.test(req.url ?? ''),
    }),
    // A query or command outside any request or message (pool keep-alives, start-up) would be a
    // trace of its own: noise.
    new PgInstrumentation({ requireParentSpan: true }),
    new IORedisInstrumentation({ requireParentSpan: true }),
    new UndiciInstrumentation(),
  ];
  await registerEsmHook(instrumentations.flatMap((i) => i.getModuleDefinitions().map((d) => d.name)));

  const endpoint = options.otlpEndpoint?.replace(/\/+$/, '');
  const processor = endpoint
    ? new sdkTrace.BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }),
        scheduledDelayMillis: Number(process.env['OTEL_BSP_SCHEDULE_DELAY'] ?? 1000),
        maxQueueSize: 8192,
      })
    : // Without any processor the SDK installs no tracer provider, and ids would not be made.
      new sdkTrace.NoopSpanProcessor();
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    autoDetectResources: false,
    textMapPropagator: new W3CTraceContextPropagator(),
    sampler: new sdkTrace.ParentBasedSampler({
      root: endpoint
        ? new sdkTrace.TraceIdRatioBasedSampler(options.samplerRatio)
        : new sdkTrace.AlwaysOffSampler(),
    }),
    spanProcessors: [processor],
    instrumentations,
  });
  sdk.start();
  const handle: TracingHandle = {
    shutdown: async () => {
      if (running !== handle) return;
      running = undefined;
      await sdk.shutdown();
    },
  };
  running = handle;
  return handle;
}

/**
 * Reads {@link TracingOptions} from `OTEL_EXPORTER_OTLP_ENDPOINT` (empty = unset) and
 * `OTEL_TRACES_SAMPLER_RATIO` (default 1). Tracing starts before the service's config is
 * validated, so these two are read here; a ratio outside 0–1 throws a `RangeError` naming the
 * variable, as `@conduit/config` would reject it.
 */
export function tracingOptionsFromEnv(
  serviceName: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): TracingOptions {
  const rawRatio = env['OTEL_TRACES_SAMPLER_RATIO']?.trim() || '1';
  const samplerRatio = Number(rawRatio);
  if (!Number.isFinite(samplerRatio) || samplerRatio < 0 || samplerRatio > 1) {
    throw new RangeError('OTEL_TRACES_SAMPLER_RATIO: a number between 0 and 1');
  }
  const endpoint = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
  return { serviceName, otlpEndpoint: endpoint || undefined, samplerRatio };
}

/**
 * {@link startTracing} configured by {@link tracingOptionsFromEnv} (and `overrides`): what each
 * app's `instrument.ts` calls (`await startTracingFromEnv('<app>', { incomingHttp: false })`),
 * loaded with `node --import`.
 */
export async function startTracingFromEnv(
  serviceName: string,
  overrides: Pick<TracingOptions, 'incomingHttp'> = {},
): Promise<TracingHandle> {
  return startTracing({ ...tracingOptionsFromEnv(serviceName), ...overrides });
}

/** Flushes and stops the SDK started by {@link startTracing}; no-op when none is running. */
export async function shutdownTracing(): Promise<void> {
  await running?.shutdown();
}
