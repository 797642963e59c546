import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Header carrying the request id, in and out. */
export const REQUEST_ID_HEADER = 'x-request-id';

// Printable ASCII without spaces, bounded: a caller's id goes on every log line of the request.
const ACCEPTABLE = /^[\x21-\x7e]{1,128}$/;

const ids = new WeakMap<IncomingMessage, string>();

/**
 * The id of a request: the caller's `x-request-id` when it is 1–128 printable ASCII characters
 * without spaces, else a new UUID. Memoised per raw request, so that Fastify (`request.id`, the
 * echoed header) and pino-http (`req.id` on log lines) agree — each asks on its own.
 */
export function requestIdOf(req: IncomingMessage): string {
  let id = ids.get(req);
  if (id === undefined) {
    const header = req.headers[REQUEST_ID_HEADER];
    id = typeof header === 'string' && ACCEPTABLE.test(header) ? header : randomUUID();
    ids.set(req, id);
  }
  return id;
}
