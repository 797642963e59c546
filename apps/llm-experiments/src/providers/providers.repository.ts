import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { CreateProviderBody, Provider, UpdateProviderBody } from '@conduit/contracts';
import { rawPool, type TenantScope } from '@conduit/database';

/** Thrown when a provider id is taken within the org. */
export class ProviderExistsError extends Error {
  constructor(readonly id: string) {
    super(`provider ${id} already exists`);
    this.name = 'ProviderExistsError';
  }
}

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A provider row as its wire JSON (`providerSchema`), built by Postgres. */
export const PROVIDER_JSON = `json_build_object('id', id, 'org_id', org_id, 'kind', kind, 'name', name,
  'base_url', base_url, 'api_key_env', api_key_env, 'default_model', default_model, 'timeout_ms', timeout_ms,
  'max_retries', max_retries, 'concurrency', concurrency, 'cost_per_1k_input', cost_per_1k_input,
  'cost_per_1k_output', cost_per_1k_output, 'created_at', ${iso('created_at')}, 'updated_at', ${iso('updated_at')})`;

const COLUMNS = [
  'name',
  'base_url',
  'api_key_env',
  'default_model',
  'timeout_ms',
  'max_retries',
  'concurrency',
  'cost_per_1k_input',
  'cost_per_1k_output',
] as const;

/** Providers of an org. Holds no secrets: `api_key_env` names a variable of the service. */
@Injectable()
export class ProvidersRepository {
  constructor(private readonly dataSource: DataSource) {}

  async create(scope: TenantScope, body: CreateProviderBody): Promise<Provider> {
    try {
      const { rows } = await rawPool(this.dataSource).query<{ p: Provider }>(
        `INSERT INTO experiments.providers (org_id, id, kind, ${COLUMNS.join(', ')})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${PROVIDER_JSON} AS p`,
        [
          scope.orgId,
          body.id,
          body.kind,
          body.name,
          body.base_url ?? null,
          body.api_key_env ?? null,
          body.default_model,
          body.timeout_ms,
          body.max_retries,
          body.concurrency,
          body.cost_per_1k_input,
          body.cost_per_1k_output,
        ],
      );
      return (rows[0] as { p: Provider }).p;
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new ProviderExistsError(body.id);
      throw error;
    }
  }

  async list(scope: TenantScope): Promise<Provider[]> {
    const { rows } = await rawPool(this.dataSource).query<{ p: Provider }>(
      `SELECT ${PROVIDER_JSON} AS p FROM experiments.providers WHERE org_id = $1 ORDER BY id LIMIT 1000`,
      [scope.orgId],
    );
    return rows.map((r) => r.p);
  }

  async get(scope: TenantScope, id: string): Promise<Provider | null> {
    const { rows } = await rawPool(this.dataSource).query<{ p: Provider }>(
      `SELECT ${PROVIDER_JSON} AS p FROM experiments.providers WHERE org_id = $1 AND id = $2`,
      [scope.orgId, id],
    );
    return rows[0]?.p ?? null;
  }

  /** The providers with these ids (those that exist). */
  async getMany(scope: TenantScope, ids: readonly string[]): Promise<Provider[]> {
    const { rows } = await rawPool(this.dataSource).query<{ p: Provider }>(
      `SELECT ${PROVIDER_JSON} AS p FROM experiments.providers WHERE org_id = $1 AND id = ANY($2::text[])`,
      [scope.orgId, ids],
    );
    return rows.map((r) => r.p);
  }

  /** `undefined` fields stay, `null` clears a nullable one. */
  async update(scope: TenantScope, id: string, changes: UpdateProviderBody): Promise<Provider | null> {
    const set: string[] = [];
    const values: unknown[] = [scope.orgId, id];
    for (const column of COLUMNS) {
      const value = changes[column];
      if (value === undefined) continue;
      values.push(value);
      set.push(`${column} = $${values.length}`);
    }
    const { rows } = await rawPool(this.dataSource).query<{ p: Provider }>(
      `UPDATE experiments.providers SET ${[...set, 'updated_at = now()'].join(', ')}
        WHERE org_id = $1 AND id = $2 RETURNING ${PROVIDER_JSON} AS p`,
      values,
    );
    return rows[0]?.p ?? null;
  }

  async delete(scope: TenantScope, id: string): Promise<boolean> {
    const { rowCount } = await rawPool(this.dataSource).query(
      `DELETE FROM experiments.providers WHERE org_id = $1 AND id = $2`,
      [scope.orgId, id],
    );
    return (rowCount ?? 0) > 0;
  }
}
