/**
 * Options of the messaging layer; they mirror `BaseConfig` of `@conduit/config` so an app maps
 * its config in one line.
 */
export interface MessagingOptions {
  /** Client name shown by the NATS server (e.g. `gateway`). */
  readonly name: string;
  readonly servers: readonly string[];
  readonly user?: string;
  readonly password?: string;
  /** Default time-out of a request/reply call, in milliseconds. */
  readonly requestTimeoutMs: number;
  readonly streams: {
    readonly maxAgeHours: number;
    readonly maxBytesMb: number;
    readonly duplicateWindowS: number;
  };
  readonly consumers: {
    /** Deliveries before a failing message is dead-lettered. */
    readonly maxDeliver: number;
    /** Seconds a delivery may stay unacknowledged before the server redelivers it. */
    readonly ackWaitS: number;
    /** Redelivery delays by attempt after a failure, in milliseconds (the last one repeats). */
    readonly backoffMs: readonly number[];
  };
  /** Create/update the platform streams at connect (idempotent). */
  readonly provisionStreams: boolean;
}
