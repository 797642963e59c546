import { register } from 'node:module';

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

/**
 * Starts the OpenTelemetry NodeSDK. Must run before NestJS, pg, ioredis or pino are imported
 * (load it with `node --import`): it registers the ESM loader hook first and imports the SDK
 * dynamically so that the instrumented modules load afterwards. Instruments http (server and
 * client spans), pg, ioredis, undici (fetch) and pino (its spans only; trace ids on log lines come from the logger's mixin); noisy
 * fs/dns/net instrumentations stay off. Idempotent.
 */
export async function startTracing(options: TracingOptions): Promise<{ shutdown(): Promise<void> }> {
  if (shutdown) return { shutdown };
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  // Only traces leave the process; without these the SDK would try to export logs and metrics.
  process.env['OTEL_LOGS_EXPORTER'] ??= 'none';
  process.env['OTEL_METRICS_EXPORTER'] ??= 'none';
  process.env['OTEL_NODE_ENABLED_INSTRUMENTATIONS'] ??= 'http,pg,ioredis,pino,undici';

  const [
    { NodeSDK },
    { getNodeAutoInstrumentations },
    { OTLPTraceExporter },
    sdkTrace,
    { resourceFromAttributes },
  ] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/auto-instrumentations-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/resources'),
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
      getNodeAutoInstrumentations({
        '@opentelemetry/instrumentation-pino': {
          // Log lines get trace_id/span_id from the logging mixin of @conduit/observability.
          disableLogSending: true,
          disableLogCorrelation: true,
        },
        '@opentelemetry/instrumentation-http': {
          ignoreIncomingRequestHook: (req) => /^\/(health|readyz|metrics)\b/.test(req.url ?? ''),
        },
      }),
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
