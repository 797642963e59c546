// Loaded with `node --import` before main.js so OpenTelemetry hooks pg, http and fastify first.
import { startTracingFromEnv } from '@conduit/tracing';

await startTracingFromEnv('telemetry');
