import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { isDatabaseUnavailable } from './connection-errors.js';
import type { PgPoolLike } from './data-source.js';

export interface StoredStatementDefinition {
  /** Schema the function lives in (the service's own). */
  readonly schema: string;
  /** Function name stem; a hash of the whole definition is appended. */
  readonly name: string;
  /** Parameter types in order, as the statement's `$1`, `$2`, … use them (e.g. `uuid`, `text[]`). */
  readonly params: readonly string[];
  /** Result columns with their types, e.g. `id uuid, status text`; names as the statement returns them. */
  readonly returns: string;
  /** One statement returning rows (a data-modifying `WITH` is fine), with `$n` parameters. */
  readonly sql: string;
}

const UNDEFINED_FUNCTION = '42883';
const log = new Logger('StoredStatement');

/**
 * A hot statement run as a PL/pgSQL function, so that Postgres parses and plans it once per
 * server connection instead of on every call. Named prepared statements would do that, but
 * PgBouncer in transaction mode (1.18, the version Debian ships) hands each transaction to any
 * server connection and cannot carry them; a function's plans are cached by the server
 * connection that runs it, whichever client asked. Measured on device-control's command
 * statements: planning took 0.3–0.5 ms of Postgres CPU per call, more than executing them.
 *
 * The function is `<schema>.<name>_<hash of the definition>`: a changed statement is a new
 * function, never a stale one. It is created on first use (`CREATE OR REPLACE`, idempotent and
 * safe when replicas race); where it cannot be (no CREATE privilege), the plain statement runs
 * instead, with a warning.
 */
export class StoredStatement<Row = Record<string, unknown>> {
  readonly functionName: string;
  private readonly call: string;
  private ready?: Promise<boolean>;

  constructor(private readonly definition: StoredStatementDefinition) {
    // The hash covers the function's whole text, so any change to it is a new function.
    const hash = createHash('sha256').update(this.ddlFor('NAME')).digest('hex').slice(0, 12);
    this.functionName = `${definition.schema}.${definition.name}_${hash}`;
    this.call = `SELECT * FROM ${this.functionName}(${definition.params.map((_, i) => `$${i + 1}`).join(', ')})`;
  }

  /**
   * The `CREATE OR REPLACE FUNCTION` statement. Conflicts between result names and columns
   * resolve to columns. The plan is generic from the first call: left to choose, the plan cache
   * kept building custom plans for these statements (a generic plan of `= ANY($n)` is estimated
   * dearer) — re-planning every call, which is what this is for avoiding.
   *
   * Sequential scans are priced out (`enable_seqscan = off`, for the function's own statements
   * only): the plan is made once per server connection and kept until the next `ANALYZE` of its
   * tables, so a plan made while a table was empty (a fresh database, autovacuum off) would scan it
   * for every call ever after. The commands bench measured that: 1.4 billion rows read by 95 000
   * sequential scans of `device.commands` by primary key, Postgres at 116 % CPU, 414 instead of
   * 470 commands/s. Hot statements are key lookups; an index path always exists for them.
   */
  ddl(): string {
    return this.ddlFor(this.functionName);
  }

  private ddlFor(functionName: string): string {
    const { params, returns, sql } = this.definition;
    return `CREATE OR REPLACE FUNCTION ${functionName}(${params.join(', ')})
RETURNS TABLE (${returns}) LANGUAGE plpgsql
  SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $stored$
#variable_conflict use_column
BEGIN
  RETURN QUERY ${sql};
END
$stored$`;
  }

  /** Runs the statement with `values` (one per parameter) and returns its rows. */
  async query(pool: PgPoolLike, values: readonly unknown[]): Promise<Row[]> {
    if (values.length !== this.definition.params.length)
      throw new RangeError(
        `${this.functionName}: ${this.definition.params.length} values expected, got ${values.length}`,
      );
    try {
      return await this.run(pool, values);
    } catch (error) {
      // Dropped since (a schema reset): create it again once.
      if ((error as { code?: string }).code !== UNDEFINED_FUNCTION) throw error;
      this.ready = undefined;
      return this.run(pool, values);
    }
  }

  /** Through the function when it exists (created on first use), else the plain statement. */
  private async run(pool: PgPoolLike, values: readonly unknown[]): Promise<Row[]> {
    const text = (await this.ensure(pool)) ? this.call : this.definition.sql;
    return (await pool.query(text, [...values])).rows as Row[];
  }

  private ensure(pool: PgPoolLike): Promise<boolean> {
    this.ready ??= this.create(pool);
    return this.ready;
  }

  private async create(pool: PgPoolLike): Promise<boolean> {
    const exists = async () =>
      (
        (await pool.query('SELECT to_regproc($1) IS NOT NULL AS ok', [this.functionName])).rows[0] as {
          ok: boolean;
        }
      ).ok;
    try {
      if (await exists()) return true;
      await pool.query(this.ddl());
      return true;
    } catch (error) {
      // Another replica created it at the same moment ("tuple concurrently updated"): it is there.
      if (await exists().catch(() => false)) return true;
      // A database that is down is the caller's error to see; try again on the next call.
      if (isDatabaseUnavailable(error) || typeof (error as { code?: unknown }).code !== 'string') {
        this.ready = undefined;
        throw error;
      }
      log.warn(`${this.functionName} could not be created (${String(error)}): running the plain statement`);
      return false;
    }
  }
}
