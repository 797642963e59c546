import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DataSource } from 'typeorm';
import { SERVICE_CONFIG } from '@conduit/runtime';
import { TwoLevelCache } from '@conduit/caching';
import { ApiError } from '../common/api.error.js';
import type { GatewayConfig } from '../config/gateway.config.js';
import { AUTH_CACHE } from '../cache/gateway-cache.module.js';
import { displayPrefix, generateApiKey, hashApiKey } from './api-key.js';
import type {
  ApiKey,
  CreateKeyBody,
  CreateOrgBody,
  CreatedKey,
  CreateUserBody,
  Org,
  Role,
  UpdateOrgBody,
  User,
} from './identity.schemas.js';
import type { Principal } from './principal.js';

/** Unknown keys are remembered briefly too, so a flood of bad keys does not reach Postgres. */
const NEGATIVE_TTL_MS = 5_000;
/**
 * Stale-if-error: while Postgres is down a known key keeps working from memory this long after
 * its TTL (ingest goes on during an outage). A revoked key is deleted, not staled, so this never
 * revives one.
 */
const OUTAGE_GRACE_MS = 15 * 60_000;

const KEY_COLUMNS = `id, org_id, user_id, role, name, prefix,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
  to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS revoked_at`;
const ORG_COLUMNS = `id, name, tier, system,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at`;

/** TypeORM answers an UPDATE … RETURNING as `[rows, affected]`, other statements as the rows. */
const updated = <T>(result: unknown): T[] =>
  (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];

interface CachedPrincipal {
  readonly p: Principal | null;
}

/**
 * Orgs, users and API keys (schema `identity`), and the resolution of a key to a
 * {@link Principal}. Resolution is cached in memory per replica (no database round trip on the
 * hot path); a revocation deletes the entry on every replica through the cache's NATS
 * invalidation, and the TTL bounds what a replica that missed the message could serve.
 */
@Injectable()
export class IdentityService implements OnModuleInit {
  private readonly logger = new Logger(IdentityService.name);
  private readonly ttlMs: number;
  /** key → SHA-256 hex of the keys seen lately: hashing on every request showed in profiles. */
  private readonly digests = new LRUCache<string, string>({ max: 10_000 });

  constructor(
    private readonly db: DataSource,
    @Inject(AUTH_CACHE) private readonly cache: TwoLevelCache,
    @Inject(SERVICE_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.ttlMs = config.service.authCacheTtlMs;
  }

  async onModuleInit(): Promise<void> {
    const { adminKey, orgId, tier } = this.config.service.bootstrap;
    if (adminKey) await this.bootstrap(orgId, tier, adminKey);
  }

  /** The principal of a key when it is fresh in memory (synchronous), else undefined. */
  peek(key: string): Principal | undefined {
    return this.cache.peek<CachedPrincipal>(this.digestOf(key))?.p ?? undefined;
  }

  private digestOf(key: string): string {
    let digest = this.digests.get(key);
    if (digest === undefined) {
      digest = hashApiKey(key).toString('hex');
      this.digests.set(key, digest);
    }
    return digest;
  }

  /** The caller behind a key, or null for an unknown or revoked key. */
  async resolve(key: string): Promise<Principal | null> {
    const digest = this.digestOf(key);
    const hit = this.cache.peek<CachedPrincipal>(digest);
    if (hit) return hit.p;
    const entry = await this.cache.getOrSet<CachedPrincipal>(
      digest,
      async () => ({ p: await this.load(digest) }),
      {
        ttlMs: this.ttlMs,
        graceMs: OUTAGE_GRACE_MS,
        l1Only: true,
      },
    );
    if (!entry.p) await this.cache.set(digest, entry, { ttlMs: NEGATIVE_TTL_MS, l1Only: true });
    return entry.p;
  }

  private async load(digestHex: string): Promise<Principal | null> {
    const rows: { id: string; user_id: string; org_id: string; role: Role; tier: string; system: boolean }[] =
      await this.db.query(
        `SELECT k.id, k.user_id, k.org_id, k.role, o.tier, o.system
           FROM identity.api_keys k JOIN identity.orgs o ON o.id = k.org_id
          WHERE k.key_hash = decode($1, 'hex') AND k.revoked_at IS NULL`,
        [digestHex],
      );
    const row = rows[0];
    if (!row) return null;
    return {
      keyId: row.id,
      userId: row.user_id,
      orgId: row.org_id,
      role: row.role,
      tier: row.tier,
      system: row.system,
    };
  }

  /** Seeds the bootstrap org (system), its admin user and the configured key; idempotent. */
  private async bootstrap(orgId: string, tier: string, key: string): Promise<void> {
    await this.db.query(
      `WITH org AS (
         INSERT INTO identity.orgs (id, name, tier, system) VALUES ($1, $1, $2, true)
         ON CONFLICT (id) DO UPDATE SET system = true RETURNING id),
       usr AS (
         INSERT INTO identity.users (org_id, email) SELECT id, 'admin@' || id || '.local' FROM org
         ON CONFLICT (org_id, email) DO UPDATE SET email = EXCLUDED.email RETURNING id, org_id)
       INSERT INTO identity.api_keys (org_id, user_id, role, name, prefix, key_hash)
       SELECT org_id, id, 'admin', 'bootstrap', $3, $4 FROM usr
       ON CONFLICT (key_hash) DO NOTHING`,
      [orgId, tier, displayPrefix(key), hashApiKey(key)],
    );
    this.logger.log(`bootstrap admin key ready for org ${orgId}`);
  }

  async createOrg(body: CreateOrgBody): Promise<Org> {
    const rows: Org[] = await this.db.query(
      `INSERT INTO identity.orgs (id, name, tier) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO NOTHING RETURNING ${ORG_COLUMNS}`,
      [body.id, body.name, body.tier],
    );
    if (!rows[0])
      throw new ApiError('conflict', `org ${body.id} already exists`, [
        { field: 'body.id', message: 'taken' },
      ]);
    return rows[0];
  }

  async listOrgs(): Promise<Org[]> {
    return this.db.query(`SELECT ${ORG_COLUMNS} FROM identity.orgs ORDER BY created_at, id LIMIT 1000`);
  }

  async getOrg(orgId: string): Promise<Org> {
    const rows: Org[] = await this.db.query(`SELECT ${ORG_COLUMNS} FROM identity.orgs WHERE id = $1`, [
      orgId,
    ]);
    if (!rows[0]) throw new ApiError('not_found', `org ${orgId} not found`);
    return rows[0];
  }

  /** Changes name or tier; a new tier applies to the org's keys on every replica at once. */
  async updateOrg(orgId: string, body: UpdateOrgBody): Promise<Org> {
    const rows = updated<Org>(
      await this.db.query(
        `UPDATE identity.orgs SET name = COALESCE($2, name), tier = COALESCE($3, tier)
        WHERE id = $1 RETURNING ${ORG_COLUMNS}`,
        [orgId, body.name ?? null, body.tier ?? null],
      ),
    );
    if (!rows[0]) throw new ApiError('not_found', `org ${orgId} not found`);
    await this.forgetKeysOf(orgId);
    return rows[0];
  }

  async createUser(orgId: string, body: CreateUserBody): Promise<User> {
    await this.getOrg(orgId);
    const rows: User[] = await this.db.query(
      `INSERT INTO identity.users (org_id, email) VALUES ($1, $2) ON CONFLICT (org_id, email) DO NOTHING
       RETURNING id, org_id, email, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at`,
      [orgId, body.email],
    );
    if (!rows[0])
      throw new ApiError('conflict', `user ${body.email} already exists`, [
        { field: 'body.email', message: 'taken' },
      ]);
    return rows[0];
  }

  async createKey(orgId: string, body: CreateKeyBody): Promise<CreatedKey> {
    const key = generateApiKey();
    const rows: ApiKey[] = await this.db.query(
      `INSERT INTO identity.api_keys (org_id, user_id, role, name, prefix, key_hash)
       SELECT u.org_id, u.id, $3, $4, $5, $6 FROM identity.users u WHERE u.id = $2 AND u.org_id = $1
       RETURNING ${KEY_COLUMNS}`,
      [orgId, body.user_id, body.role, body.name, displayPrefix(key), hashApiKey(key)],
    );
    if (!rows[0]) {
      throw new ApiError('not_found', `user ${body.user_id} not found in org ${orgId}`, [
        { field: 'body.user_id', message: 'no such user in this org' },
      ]);
    }
    return { ...rows[0], key };
  }

  async listKeys(orgId: string): Promise<ApiKey[]> {
    return this.db.query(
      `SELECT ${KEY_COLUMNS} FROM identity.api_keys WHERE org_id = $1 ORDER BY created_at, id`,
      [orgId],
    );
  }

  /** Revokes a key; every replica stops accepting it at once (cache invalidation over NATS). */
  async revokeKey(orgId: string, keyId: string): Promise<void> {
    const rows = updated<{ key_hash: Buffer }>(
      await this.db.query(
        `UPDATE identity.api_keys SET revoked_at = COALESCE(revoked_at, now())
          WHERE org_id = $1 AND id = $2 RETURNING key_hash`,
        [orgId, keyId],
      ),
    );
    const row = rows[0];
    if (!row) throw new ApiError('not_found', `key ${keyId} not found`);
    await this.cache.delete(row.key_hash.toString('hex'));
  }

  private async forgetKeysOf(orgId: string): Promise<void> {
    const rows: { key_hash: Buffer }[] = await this.db.query(
      `SELECT key_hash FROM identity.api_keys WHERE org_id = $1 AND revoked_at IS NULL`,
      [orgId],
    );
    if (rows.length) await this.cache.delete(...rows.map((r) => r.key_hash.toString('hex')));
  }
}
