import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { CreateSiteBody, Site, UpdateSiteBody } from '@conduit/contracts';
import { rowsOf, type TenantScope } from '@conduit/database';

/** Thrown when a site id is taken within the org. */
export class SiteExistsError extends Error {
  constructor(readonly id: string) {
    super(`site ${id} already exists`);
    this.name = 'SiteExistsError';
  }
}

const SITE_JSON = `json_build_object('id', id, 'org_id', org_id, 'name', name, 'integrations', integrations,
  'created_at', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
  'updated_at', to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) AS site`;

/** Sites of an org and their per-vendor integration settings (no secrets: env variable names). */
@Injectable()
export class SitesRepository {
  constructor(private readonly dataSource: DataSource) {}

  async create(scope: TenantScope, body: CreateSiteBody): Promise<Site> {
    try {
      const rows: { site: Site }[] = await this.dataSource.query(
        `INSERT INTO device.sites (org_id, id, name, integrations) VALUES ($1, $2, $3, $4) RETURNING ${SITE_JSON}`,
        [scope.orgId, body.id, body.name, JSON.stringify(body.integrations)],
      );
      return (rows[0] as { site: Site }).site;
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new SiteExistsError(body.id);
      throw error;
    }
  }

  async list(scope: TenantScope): Promise<Site[]> {
    const rows: { site: Site }[] = await this.dataSource.query(
      `SELECT ${SITE_JSON} FROM device.sites WHERE org_id = $1 ORDER BY id LIMIT 1000`,
      [scope.orgId],
    );
    return rows.map((r) => r.site);
  }

  async get(scope: TenantScope, id: string): Promise<Site | null> {
    const rows: { site: Site }[] = await this.dataSource.query(
      `SELECT ${SITE_JSON} FROM device.sites WHERE org_id = $1 AND id = $2`,
      [scope.orgId, id],
    );
    return rows[0]?.site ?? null;
  }

  /** `integrations` replaces the whole map (settings of a vendor are set together). */
  async update(scope: TenantScope, id: string, changes: UpdateSiteBody): Promise<Site | null> {
    const rows = rowsOf<{ site: Site }>(
      await this.dataSource.query(
        `UPDATE device.sites SET name = coalesce($3, name), integrations = coalesce($4::jsonb, integrations),
              updated_at = now()
        WHERE org_id = $1 AND id = $2 RETURNING ${SITE_JSON}`,
        [
          scope.orgId,
          id,
          changes.name ?? null,
          changes.integrations ? JSON.stringify(changes.integrations) : null,
        ],
      ),
    );
    return rows[0]?.site ?? null;
  }

  async delete(scope: TenantScope, id: string): Promise<boolean> {
    const rows = rowsOf(
      await this.dataSource.query(`DELETE FROM device.sites WHERE org_id = $1 AND id = $2 RETURNING id`, [
        scope.orgId,
        id,
      ]),
    );
    return rows.length > 0;
  }
}
