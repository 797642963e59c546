/**
 * The rows of a statement run through TypeORM's `query()`. For a statement whose command is
 * UPDATE or DELETE (with RETURNING) TypeORM 1.x's Postgres driver answers `[rows, affected]`
 * instead of the rows; for every other statement, the rows.
 */
export function rowsOf<T>(result: unknown): T[] {
  const r = result as unknown[];
  return r.length === 2 && Array.isArray(r[0]) && typeof r[1] === 'number' ? (r[0] as T[]) : (r as T[]);
}
