import type { BaseConfig } from '@conduit/config';

/**
 * Options of the messaging layer, taken from the service's validated config: stream limits
 * (`maxAgeHours`, `maxBytesMb`, `duplicateWindowS`) and consumer defaults (`maxDeliver`,
 * `ackWaitS` in seconds, `backoffMs` — redelivery delays by attempt, the last one repeating).
 */
export interface MessagingOptions {
  /** Client name shown by the NATS server (e.g. `gateway`). */
  readonly name: string;
  readonly servers: readonly string[];
  readonly user?: string;
  readonly password?: string;
  /** Default time-out of a request/reply call, in milliseconds. */
  readonly requestTimeoutMs: number;
  readonly streams: BaseConfig['streams'];
  readonly consumers: BaseConfig['consumers'];
  /** Create/update the platform streams at connect (idempotent). */
  readonly provisionStreams: boolean;
}
