// The raw-Fastify baseline: answers every GET with the body in BASELINE_BODY_FILE and the
// headers in BASELINE_HEADERS (JSON), in its own process so that it does not share the load
// generator's event loop. Prints `{"port":n}` on stdout once listening.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const body = readFileSync(process.env['BASELINE_BODY_FILE'] ?? '/dev/null');
const headers = JSON.parse(process.env['BASELINE_HEADERS'] ?? '{}') as Record<string, string>;
const app = Fastify({ logger: false });
app.get('/*', async (_request, reply) => reply.headers(headers).send(body));
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(
  `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
);
const close = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', close);
process.once('SIGINT', close);
