import type { Role } from './identity.schemas.js';

/** Who is calling: resolved from the API key by {@link AuthGuard}, the only source of the org. */
export interface Principal {
  readonly keyId: string;
  readonly userId: string;
  readonly orgId: string;
  readonly role: Role;
  /** The org's rate-limit tier. */
  readonly tier: string;
  /** Admins of a system org manage every org. */
  readonly system: boolean;
}
