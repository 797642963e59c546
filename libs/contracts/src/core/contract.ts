import type { z } from 'zod';
import type { StreamName } from './streams.js';

/**
 * A request/reply operation on core NATS: `svc.<service>.<operation>`, served in a queue group
 * named after the owning service so that replicas share the load.
 */
export interface RequestContract<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  /** WARNING: wire name. */
  readonly subject: string;
  /** Queue group of the serving service, e.g. `device-control`. */
  readonly queue: string;
  readonly request: Req;
  readonly response: Res;
}

/** Declares a {@link RequestContract}; the subject must read `svc.<service>.<operation>`. */
export function defineRequest<Req extends z.ZodType, Res extends z.ZodType>(
  c: RequestContract<Req, Res>,
): RequestContract<Req, Res> {
  if (!/^svc\.[a-z-]+\.[a-z][a-z0-9_.-]*$/.test(c.subject))
    throw new Error(`bad request subject ${c.subject}`);
  return c;
}

export type RequestOf<C> = C extends RequestContract<infer Req, z.ZodType> ? z.input<Req> : never;
export type ParsedRequestOf<C> = C extends RequestContract<infer Req, z.ZodType> ? z.output<Req> : never;
export type ResponseOf<C> = C extends RequestContract<z.ZodType, infer Res> ? z.output<Res> : never;

/**
 * A fact published to JetStream. `subject(...)` builds the concrete subject; `filter` is the
 * wildcard a consumer binds to.
 */
export interface EventContract<
  P extends z.ZodType = z.ZodType,
  A extends readonly string[] = readonly string[],
> {
  readonly stream: StreamName;
  /** Short name, e.g. `device.registered`. */
  readonly type: string;
  /** Payload schema version; bump on a breaking change and keep the old one readable. */
  readonly version: number;
  readonly subject: (...args: A) => string;
  /** WARNING: wire name. Wildcard subject matching every instance of this event. */
  readonly filter: string;
  readonly schema: P;
}

export function defineEvent<P extends z.ZodType, A extends readonly string[]>(
  c: EventContract<P, A>,
): EventContract<P, A> {
  return c;
}

export type PayloadOf<C> = C extends EventContract<infer P, readonly string[]> ? z.input<P> : never;
export type ParsedPayloadOf<C> = C extends EventContract<infer P, readonly string[]> ? z.output<P> : never;
export type SubjectArgsOf<C> = C extends EventContract<z.ZodType, infer A> ? A : never;

/** A subject token (org id, device id): no dots, wildcards or whitespace. */
export const SUBJECT_TOKEN = /^[A-Za-z0-9_-]{1,128}$/;
