/** What {@link startTracing} needs; read from the environment by {@link startTracingFromEnv}. */
export interface TracingOptions {
  /** `service.name` of every span. */
  readonly serviceName: string;
  /** OTLP/HTTP base URL (e.g. http://jaeger:4318); no export when absent, but ids still propagate. */
  readonly otlpEndpoint?: string;
  /** Share of new traces sampled (0–1); a request that arrives sampled stays sampled (parent-based). */
  readonly samplerRatio: number;
}

let shutdown: (() => Promise<void>) | undefined;

/** Probes and scrapes make no spans. */
const QUIET = /^\/(health|readyz|metrics)\b/;

/**
 * Starts the OpenTelemetry NodeSDK. Must run before NestJS, pg, ioredis or pino are imported
 * (load it with `node --import`): it imports the SDK dynamically and patches the CommonJS loader
 * before the instrumented modules load. No ESM loader hook is registered: everything we
 * instrument is CommonJS (pg, ioredis, pino) or built in (http, fetch), and Node 24 loads
 * CommonJS imported from ESM through the patched loader — the e2e trace test proves the pg
 * spans — while the hook cost ~25 MB, a loader thread every module passes through, and seconds
 * of start-up. Instruments http (server and
 * client spans), pg, ioredis, undici (fetch) and pino (its spans only; trace ids on log lines
 * come from the logger's mixin). Idempotent.
 */
export async function startTracing(options: TracingOptions): Promise<{ shutdown(): Promise<void> }> {
  if (shutdown) return { shutdown };
  // Only traces leave the process; without these the SDK would try to export logs and metrics.
  process.env['OTEL_LOGS_EXPORTER'] ??= 'none';
  process.env['OTEL_METRICS_EXPORTER'] ??= 'none';

  // Only the instrumentations we use, one by one: the auto-instrumentations bundle loads dozens
  // more (cloud SDKs, databases we do not run) and cost ~150 MB of RSS in every process.
  const [
    { NodeSDK },
    { OTLPTraceExporter },
    sdkTrace,
    { resourceFromAttributes },
    { HttpInstrumentation },
    { PgInstrumentation },
    { IORedisInstrumentation },
    { PinoInstrumentation },
    { UndiciInstrumentation },
  ] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@opentelemetry/instrumentation-pino'),
    import('@opentelemetry/instrumentation-undici'),
  ]);
  const endpoint = options.otlpEndpoint?.replace(/\/+$/, '');
  const processor = endpoint
    ? new sdkTrace.BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }),
        scheduledDelayMillis: Number(process.env['OTEL_BSP_SCHEDULE_DELAY'] ?? 1000),
        maxQueueSize: 8192,
      })
    : // A processor is needed for the SDK to install a tracer provider (ids in logs, propagation).
      new sdkTrace.NoopSpanProcessor();
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    autoDetectResources: false,
    // With nowhere to export, record nothing (ids are still made and propagated, for logs and
    // for downstream services that do export): recording spans nobody reads costs CPU per request.
    sampler: new sdkTrace.ParentBasedSampler({
      root: endpoint
        ? new sdkTrace.TraceIdRatioBasedSampler(options.samplerRatio)
        : new sdkTrace.AlwaysOffSampler(),
    }),
    spanProcessors: [processor],
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => QUIET.test(req.url ?? '') }),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new UndiciInstrumentation(),
      new PinoInstrumentation({ disableLogSending: true, disableLogCorrelation: true }),
    ],
  });
  sdk.start();
  shutdown = () => sdk.shutdown();
  return { shutdown };
}

/**
 * {@link startTracing} configured from `OTEL_EXPORTER_OTLP_ENDPOINT` and
 * `OTEL_TRACES_SAMPLER_RATIO` (default 1). It runs before the service's config is validated,
 * so it reads the two variables itself; a malformed ratio is rejected the same way.
 */
export async function startTracingFromEnv(serviceName: string): Promise<{ shutdown(): Promise<void> }> {
  const ratio = Number(process.env['OTEL_TRACES_SAMPLER_RATIO'] ?? '1');
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new Error('OTEL_TRACES_SAMPLER_RATIO: a number between 0 and 1');
  }
  return startTracing({
    serviceName,
    otlpEndpoint: process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] || undefined,
    samplerRatio: ratio,
  });
}

/** Flushes and stops the SDK (exports spans still buffered). No-op when tracing never started. */
export async function shutdownTracing(): Promise<void> {
  await shutdown?.();
}
