// Default imports on purpose: OpenTelemetry's http instrumentation patches the modules' export
// objects, and a call through them (`http.request`) makes the client span and sends
// `traceparent`; a named import bound at load time bypassed it (the trace e2e test shows it).
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';

/** An answer read in full (up to the client's byte limit). */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpClientOptions {
  /** Concurrent connections per host; 32 by default. */
  readonly maxSocketsPerHost?: number;
  /** Longer response bodies fail the call (`HttpBodyTooLargeError`); 1 MiB by default. */
  readonly maxResponseBytes?: number;
}

/** The answer's body was longer than the client's `maxResponseBytes`. */
export class HttpBodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`response body over ${limit} bytes`);
    this.name = 'HttpBodyTooLargeError';
  }
}

/** A failed call's error for a message: its code (`ECONNREFUSED`…) first unless the text has it. */
export function httpErrorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
}

/**
 * Outbound HTTP for the integrations (vendor bridges, LLM providers): `node:http(s)` with
 * keep-alive agents per client, the body read into a string with a size limit.
 *
 * Not `fetch`: measured here (Node 24, 5 000 sequential POSTs to a local server) undici's fetch
 * took 260 µs a call against 73 for `http.request`, and every call left about 17 KB that lived
 * through two scavenges into the old generation (its per-request weak references and finalizers)
 * — 84 MB of heap growth against 3, and 15–18 ms scavenges where `http.request` had 0.2–2 ms. In
 * llm-experiments those pauses stalled every run in flight. The global fetch dispatcher can
 * also not be closed by {@link close}.
 */
export class HttpClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly maxResponseBytes: number;

  constructor(options: HttpClientOptions = {}) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSocketsPerHost ?? 32 };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
    this.maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
  }

  /**
   * Sends one request and reads the whole answer. Rejects on a network error, on `signal`
   * aborting (it covers the response too: aborting destroys the socket) and with
   * {@link HttpBodyTooLargeError}; any status resolves. Redirects are not followed.
   */
  send(
    url: URL,
    init: {
      readonly method: string;
      readonly headers: Readonly<Record<string, string>>;
      readonly body?: string;
      readonly signal?: AbortSignal;
    },
  ): Promise<HttpAnswer> {
    const secure = url.protocol === 'https:';
    const request = secure ? https.request : http.request;
    const agent = secure ? this.httpsAgent : this.httpAgent;
    const headers =
      init.body === undefined
        ? init.headers
        : { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) };
    return new Promise((resolve, reject) => {
      const req = request(url, { method: init.method, headers, agent, signal: init.signal }, (res) => {
        readBody(res, this.maxResponseBytes).then(
          (body) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }),
          reject,
        );
      });
      req.on('error', reject);
      req.end(init.body);
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

async function readBody(res: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(res.headers['content-length'] ?? Number.NaN);
  if (declared > limit) {
    res.destroy();
    throw new HttpBodyTooLargeError(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      res.destroy();
      throw new HttpBodyTooLargeError(limit);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
