import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import {
  propagation,
  ROOT_CONTEXT,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';

const setter: TextMapSetter<MsgHdrs> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

const getter: TextMapGetter<MsgHdrs | undefined> = {
  get: (carrier, key) => carrier?.get(key) || undefined,
  keys: (carrier) => (carrier ? carrier.keys() : []),
};

/** New NATS headers carrying the active W3C trace context (`traceparent`, `tracestate`) and `extra`. */
export function outgoingHeaders(ctx: Context, extra?: Readonly<Record<string, string>>): MsgHdrs {
  const h = natsHeaders();
  propagation.inject(ctx, h, setter);
  if (extra) for (const [k, v] of Object.entries(extra)) h.set(k, v);
  return h;
}

/** The trace context a publisher or requester put in the headers (root when absent). */
export function incomingContext(h: MsgHdrs | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, h, getter);
}

/** Headers as a plain record (first value of each key). */
export function headersToRecord(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const key of h.keys()) out[key] = h.get(key);
  return out;
}
