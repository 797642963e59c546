/**
 * The one interface every vendor integration implements. Adding a vendor takes one new
 * `<name>.adapter.ts` file and one line in `vendors.ts` (the registration list).
 *
 * Calls to `deliver` always run inside the vendor's circuit breaker (`@conduit/breakers`), so an
 * adapter only has to throw on a vendor failure; it must not retry by itself.
 */

/** What device-control hands to an adapter for one delivery attempt of a command. */
export interface VendorCommand {
  readonly commandId: string;
  readonly orgId: string;
  readonly deviceId: string;
  /** The device's id at the vendor (`external_id`); adapters refuse commands without one. */
  readonly externalId: string;
  readonly site: string | null;
  readonly action: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** Delivery attempt, from 1. */
  readonly attempt: number;
  /**
   * The site's settings for this vendor (`device.sites.integrations[<vendor>]`), unvalidated:
   * each adapter checks the shape it needs. Secrets are never stored here, only the names of
   * environment variables that hold them (e.g. `token_env`).
   */
  readonly settings: Readonly<Record<string, unknown>>;
}

/** How a delivery attempt ended, as far as the adapter can tell at once. */
export type DeliveryResult =
  /** The vendor carried the command out (or refused it for good) in the same call. */
  | {
      readonly kind: 'completed';
      readonly outcome: 'succeeded' | 'failed';
      readonly reason?: string;
      /** State the vendor reported back, merged into the device's `reported` state. */
      readonly reported?: Readonly<Record<string, unknown>>;
    }
  /** Handed over; the outcome arrives later as a {@link VendorAck} (e.g. over MQTT). */
  | { readonly kind: 'sent' };

/** An acknowledgement that arrives after `deliver` returned `sent`. */
export interface VendorAck {
  readonly commandId: string;
  readonly externalId: string;
  readonly outcome: 'delivered' | 'succeeded' | 'failed';
  readonly reason?: string;
  readonly reported?: Readonly<Record<string, unknown>>;
}

/**
 * A vendor failure (unreachable, 5xx, time-out, broker down): counts against the breaker and
 * the command is retried later. Anything the vendor refuses for good (4xx, bad settings) is a
 * `completed`/`failed` result instead, not a thrown error.
 */
export class VendorUnavailableError extends Error {
  constructor(
    readonly vendor: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VendorUnavailableError';
  }
}

export interface VendorAdapter {
  /** Registry name, as stored in `device.devices.vendor` (e.g. `http-bridge`, `mqtt`). */
  readonly name: string;
  /** Connects (if it needs a connection) and starts passing acknowledgements to `onAck`. */
  start(onAck: (ack: VendorAck) => void): Promise<void>;
  /** Closes connections; pending acknowledgements are simply no longer reported. */
  stop(): Promise<void>;
  /**
   * One delivery attempt. Must honour `signal` (aborted when the breaker's time-out passes).
   * Throws {@link VendorUnavailableError} on a vendor failure.
   */
  deliver(command: VendorCommand, signal: AbortSignal): Promise<DeliveryResult>;
}
