import type { MigrationInterface } from 'typeorm';
import { CreateIdentity1764100000000 } from './1764100000000-create-identity.js';

/** The schema gateway owns; no other service reads it. */
export const GATEWAY_SCHEMA = 'identity';

/** Every migration of {@link GATEWAY_SCHEMA}, oldest first (the schema itself is created by the runner). */
export const gatewayMigrations: (new () => MigrationInterface)[] = [CreateIdentity1764100000000];
