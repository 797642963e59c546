import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoredStatement } from './stored-statement.js';

const PGBOUNCER = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:6432/conduit_test';
const DIRECT = process.env['MIGRATION_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/conduit_test';

/** Stored statements through real PgBouncer (transaction mode) and Postgres. */
describe(StoredStatement.name, () => {
  const schema = `stored_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const role = `${schema}_reader`;
  let admin: pg.Client;
  const pools: pg.Pool[] = [];
  const pool = (url = PGBOUNCER, max = 3) => {
    const p = new pg.Pool({ connectionString: url, max });
    pools.push(p);
    return p;
  };
  /** Inserts a row and its log entry in one statement and returns the row with its log count. */
  const insertWithLog = () =>
    new StoredStatement<{ id: number; label: string; logged: number }>({
      schema,
      name: 'item_insert',
      params: ['integer', 'text'],
      returns: 'id integer, label text, logged integer',
      sql: `WITH ins AS (INSERT INTO ${schema}.items (id, label) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING
                         RETURNING id, label),
                 lg AS (INSERT INTO ${schema}.log (item_id) SELECT ins.id FROM ins RETURNING item_id)
            SELECT ins.id, ins.label, (SELECT count(*)::int FROM lg) FROM ins`,
    });
  const functions = async () =>
    (
      await admin.query<{ proname: string }>(
        `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 ORDER BY 1`,
        [schema],
      )
    ).rows.map((r) => r.proname);

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: DIRECT });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`CREATE TABLE ${schema}.items (id int PRIMARY KEY, label text NOT NULL)`);
    await admin.query(`CREATE TABLE ${schema}.log (item_id int NOT NULL)`);
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it('runs a data-modifying statement as a function created on first use, from replicas racing to create it', async () => {
    const replicas = [pool(), pool(), pool(), pool()].map((p) => ({ p, statement: insertWithLog() }));
    const rows = await Promise.all(
      replicas.map(({ p, statement }, i) => statement.query(p, [i + 1, `item ${i + 1}`])),
    );
    expect(rows).toEqual([1, 2, 3, 4].map((id) => [{ id, label: `item ${id}`, logged: 1 }]));
    const name = replicas[0]?.statement.functionName.split('.')[1];
    expect(await functions()).toEqual([name]);
    // A row that is already there: the statement's own semantics, no rows.
    expect(await replicas[1]?.statement.query(replicas[1].p, [1, 'again'])).toEqual([]);
    const log = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.log`);
    expect(log.rows[0]).toEqual({ n: 4 });
  });

  it('names a changed statement differently, and creates the function again after it was dropped', async () => {
    const statement = insertWithLog();
    const changed = new StoredStatement({
      schema,
      name: 'item_insert',
      params: ['integer', 'text'],
      returns: 'id integer, label text, logged integer',
      sql: `SELECT $1, upper($2), 0`,
    });
    expect(changed.functionName).not.toBe(statement.functionName);
    const p = pool();
    expect(await changed.query(p, [7, 'x'])).toEqual([{ id: 7, label: 'X', logged: 0 }]);
    expect(await statement.query(p, [10, 'ten'])).toEqual([{ id: 10, label: 'ten', logged: 1 }]);
    await admin.query(`DROP FUNCTION ${statement.functionName}`);
    expect(await statement.query(p, [11, 'eleven'])).toEqual([{ id: 11, label: 'eleven', logged: 1 }]);
    expect(await functions()).toContain(statement.functionName.split('.')[1]);
  });

  it('runs the plain statement where the function cannot be created', async () => {
    await admin.query(`CREATE ROLE ${role} LOGIN`);
    await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
    await admin.query(`GRANT SELECT ON ${schema}.items TO ${role}`);
    const read = new StoredStatement<{ label: string }>({
      schema,
      name: 'item_label',
      params: ['integer'],
      returns: 'label text',
      sql: `SELECT label FROM ${schema}.items WHERE id = $1`,
    });
    const url = new URL(DIRECT);
    url.username = role;
    expect(await read.query(pool(url.toString()), [2])).toEqual([{ label: 'item 2' }]);
    expect(await functions()).not.toContain(read.functionName.split('.')[1]);
  });

  it('keeps to the index after its table grew from empty (the plan made on the first call stays)', async () => {
    await admin.query(`CREATE TABLE ${schema}.lookups (id int PRIMARY KEY, v text NOT NULL)`);
    // Vacuumed while empty, as a fresh database's tables are: the planner takes it as empty.
    await admin.query(`VACUUM ANALYZE ${schema}.lookups`);
    const lookup = new StoredStatement<{ v: string }>({
      schema,
      name: 'lookup',
      params: ['integer'],
      returns: 'v text',
      sql: `SELECT v FROM ${schema}.lookups WHERE id = $1`,
    });
    // One server connection throughout, as a pooled one is: its first call plans on an empty table.
    const one = pool(DIRECT, 1);
    expect(await lookup.query(one, [1])).toEqual([]);
    await admin.query(`INSERT INTO ${schema}.lookups SELECT i, 'v' || i FROM generate_series(1, 20000) i`);
    const scans = async () =>
      (
        await admin.query<{ seq: string; idx: string }>(
          `SELECT seq_scan AS seq, coalesce(idx_scan, 0) AS idx FROM pg_stat_user_tables WHERE relid = $1::regclass`,
          [`${schema}.lookups`],
        )
      ).rows[0] ?? { seq: '0', idx: '0' };
    const flushed = async () => {
      await one.query('SELECT pg_stat_force_next_flush()');
      await new Promise((resolve) => setTimeout(resolve, 50));
    };
    await flushed();
    const before = await scans();
    for (let id = 1; id <= 20; id += 1) {
      expect(await lookup.query(one, [id * 997])).toEqual([{ v: `v${id * 997}` }]);
    }
    let after = before;
    for (let i = 0; i < 40 && Number(after.idx) - Number(before.idx) < 20; i += 1) {
      await flushed();
      after = await scans();
    }
    expect(Number(after.idx) - Number(before.idx)).toBeGreaterThanOrEqual(20);
    expect(Number(after.seq) - Number(before.seq)).toBe(0);
  });

  it('refuses a call with the wrong number of values', async () => {
    await expect(insertWithLog().query(pool(), [1])).rejects.toThrow(RangeError);
  });
});
