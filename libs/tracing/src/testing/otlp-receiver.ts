import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** A span kind as the receiver names it (OTLP's numeric kind, lower-cased). */
export type ReceivedSpanKind = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** A span as the receiver decoded it from an OTLP/HTTP JSON export. Ids are lower-case hex. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Absent on a root span. */
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: ReceivedSpanKind;
  /** The `service.name` of the resource that exported the span. */
  readonly serviceName: string;
  /** Attribute values decoded to JS: strings, booleans, numbers (64-bit ints as `number`), arrays. */
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly links: readonly {
    readonly traceId: string;
    readonly spanId: string;
    readonly attributes: Readonly<Record<string, unknown>>;
  }[];
  /** OTLP status: code 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message?: string };
  /** Span events by name (a recorded exception is an `exception` event). */
  readonly events: readonly {
    readonly name: string;
    readonly attributes: Readonly<Record<string, unknown>>;
  }[];
}

/**
 * A real OTLP/HTTP trace endpoint for tests (see {@link startOtlpReceiver}). Dispose it with
 * `await using`; that closes the server and its connections.
 */
export interface OtlpReceiver extends AsyncDisposable {
  /** Base URL (`http://127.0.0.1:<port>`), to use as `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly url: string;
  /** Every span received since start (or the last {@link clear}), in arrival order; a copy. */
  spans(): ReceivedSpan[];
  /**
   * Resolves with the first truthy result of `pick(spans)`, re-evaluated on every export that
   * arrives (a plain predicate works too: it resolves `true`). Rejects after `timeoutMs`
   * listing every span received, so a failing trace test shows what did arrive.
   */
  waitForSpans<T>(
    pick: (spans: readonly ReceivedSpan[]) => T | undefined | null | false,
    timeoutMs: number,
  ): Promise<T>;
  /** Forgets the spans received so far. */
  clear(): void;
}

const KINDS: readonly ReceivedSpanKind[] = [
  'unspecified',
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
];

interface OtlpValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpValue;
}
interface OtlpSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  attributes?: OtlpKeyValue[];
  links?: { traceId: string; spanId: string; attributes?: OtlpKeyValue[] }[];
  status?: { code?: number; message?: string };
  events?: { name: string; attributes?: OtlpKeyValue[] }[];
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

function value(v: OtlpValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  // OTLP/JSON writes 64-bit integers as strings; test values fit a double.
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  if (v.kvlistValue) return attributes(v.kvlistValue.values);
  return v.bytesValue;
}

function attributes(list: OtlpKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]));
}

/**
 * Decodes one OTLP/HTTP JSON `ExportTraceServiceRequest` (ids as hex, as the JS exporter writes
 * them) into spans. Throws on a body that is not an object.
 */
export function decodeOtlpJson(body: unknown): ReceivedSpan[] {
  if (typeof body !== 'object' || body === null) throw new TypeError('OTLP export: expected a JSON object');
  const out: ReceivedSpan[] = [];
  for (const rs of (body as OtlpExport).resourceSpans ?? []) {
    const serviceName = String(attributes(rs.resource?.attributes)['service.name'] ?? '');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: String(s.traceId),
          spanId: String(s.spanId),
          // Roots carry an empty string or no field at all, depending on the exporter.
          parentSpanId: s.parentSpanId || undefined,
          name: String(s.name),
          kind: KINDS[s.kind ?? 0] ?? 'unspecified',
          serviceName,
          attributes: attributes(s.attributes),
          links: (s.links ?? []).map((l) => ({
            traceId: l.traceId,
            spanId: l.spanId,
            attributes: attributes(l.attributes),
          })),
          status: { code: s.status?.code ?? 0, message: s.status?.message || undefined },
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributes(e.attributes) })),
        });
      }
    }
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

/**
 * Starts an OTLP/HTTP receiver on 127.0.0.1 (random port). It accepts JSON exports (what
 * `@opentelemetry/exporter-trace-otlp-http` posts, gzip or not) on `POST /v1/traces`, keeps the
 * spans, and answers 200 only once they are stored — so after an exporter's flush or shutdown
 * resolves, {@link OtlpReceiver.spans} already holds them. Protobuf exports are answered 415
 * (an exporter configured for `http/protobuf` fails loudly rather than silently losing spans);
 * other paths 404; an undecodable body 400.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  let received: ReceivedSpan[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (!String(req.headers['content-type'] ?? '').includes('json')) {
        res.writeHead(415).end('only OTLP/HTTP JSON is decoded here');
        return;
      }
      try {
        received.push(...decodeOtlpJson(JSON.parse((await readBody(req)).toString('utf8'))));
      } catch (error) {
        res.writeHead(400).end(String(error));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      waiters.forEach((w) => w());
    })();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => [...received],
    clear: () => {
      received = [];
    },
    waitForSpans<T>(
      pick: (spans: readonly ReceivedSpan[]) => T | undefined | null | false,
      timeoutMs: number,
    ) {
      return new Promise<T>((resolve, reject) => {
        const check = () => {
          const found = pick(received);
          if (found) {
            cleanup();
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `no matching spans within ${timeoutMs} ms; received: ${received.map((s) => `${s.serviceName}:${s.kind}:${s.name}`).join(', ')}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async [Symbol.asyncDispose]() {
      // Exporters keep connections alive; without this close() would wait for them.
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
