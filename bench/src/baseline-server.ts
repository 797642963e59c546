// The raw-Fastify baseline: serves the body in BASELINE_BODY_FILE on every GET, in its own
// process (so it does not share the load generator's event loop), and prints its port.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const body = readFileSync(process.env['BASELINE_BODY_FILE'] ?? '/dev/null');
const app = Fastify({ logger: false });
app.get('/*', async (_request, reply) =>
  reply.header('content-type', 'application/json; charset=utf-8').send(body),
);
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(
  `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
);
