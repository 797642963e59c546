import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** A span as the receiver decoded it from an OTLP/HTTP JSON export. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer' | 'unspecified';
  readonly serviceName: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly links: readonly { traceId: string; spanId: string }[];
  readonly status: { code: number; message?: string };
  readonly events: readonly { name: string }[];
}

/** A real OTLP/HTTP endpoint for tests: point `OTEL_EXPORTER_OTLP_ENDPOINT` at {@link url}. */
export interface OtlpReceiver extends AsyncDisposable {
  readonly url: string;
  spans(): readonly ReceivedSpan[];
  /** Resolves with the first truthy result of `pick(spans)`, re-checked as exports arrive. */
  waitForSpans<T>(
    pick: (spans: readonly ReceivedSpan[]) => T | undefined | null | false,
    timeoutMs: number,
  ): Promise<T>;
  clear(): void;
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;

interface OtlpValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpValue[] };
}
interface OtlpKeyValue {
  key: string;
  value: OtlpValue;
}

function value(v: OtlpValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  return undefined;
}

function attributes(list: OtlpKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]));
}

/** Decodes one OTLP/HTTP JSON `ExportTraceServiceRequest` into spans. */
export function decodeOtlpJson(body: unknown): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  const resourceSpans = (body as { resourceSpans?: unknown[] }).resourceSpans ?? [];
  for (const rs of resourceSpans as {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { spans?: Record<string, unknown>[] }[];
  }[]) {
    const serviceName = String(attributes(rs.resource?.attributes)['service.name'] ?? '');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const parent = s['parentSpanId'] as string | undefined;
        out.push({
          traceId: String(s['traceId']),
          spanId: String(s['spanId']),
          parentSpanId: parent ? parent : undefined,
          name: String(s['name']),
          kind: KINDS[Number(s['kind'] ?? 0)] ?? 'unspecified',
          serviceName,
          attributes: attributes(s['attributes'] as OtlpKeyValue[]),
          links: ((s['links'] as { traceId: string; spanId: string }[] | undefined) ?? []).map((l) => ({
            traceId: l.traceId,
            spanId: l.spanId,
          })),
          status: (s['status'] as { code: number; message?: string } | undefined) ?? { code: 0 },
          events: ((s['events'] as { name: string }[] | undefined) ?? []).map((e) => ({ name: e.name })),
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
 * Starts an OTLP/HTTP receiver on 127.0.0.1 (random port) that accepts JSON exports on
 * `/v1/traces` (what `@opentelemetry/exporter-trace-otlp-http` sends) and keeps the spans.
 * Protobuf exports are answered 415 so a misconfigured exporter fails loudly.
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
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        waiters.forEach((w) => w());
      } catch (error) {
        res.writeHead(400).end(String(error));
      }
    })();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => received,
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
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
