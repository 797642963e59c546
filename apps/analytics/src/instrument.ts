// Loaded with `node --import` before main.js so OpenTelemetry hooks pg, ioredis, undici and outgoing http first.
import { startTracingFromEnv } from '@conduit/tracing';

// Incoming HTTP server spans come from @conduit/observability's Fastify hooks (cheaper).
await startTracingFromEnv('analytics', { incomingHttp: false });
