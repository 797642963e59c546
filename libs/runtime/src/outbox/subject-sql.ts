/**
 * The SQL expression of an event's subject over SQL columns, for statements that write their
 * events to the outbox themselves: `subjectSql(DeviceStatusChanged.subject, 'c.org_id', 'c.id')`
 * gives `'device.' || c.org_id || '.' || c.id || '.status_changed'`. The subject's shape comes
 * from the contract (called with placeholders), never from a string spelled again in SQL.
 */
export function subjectSql<A extends string[]>(subject: (...args: A) => string, ...columns: A): string {
  // Private-use characters: they cannot occur in a subject token.
  const mark = (i: number) => `\uE000${i}\uE001`;
  const template = subject(...(columns.map((_, i) => mark(i)) as A));
  if (template.includes("'")) throw new Error(`subject ${template} holds a quote`);
  const parts = template.split(/\uE000(\d+)\uE001/);
  // split with a capture group: literal, index, literal, index, …, literal
  const sql = parts.map((part, i) =>
    i % 2 === 1 ? (columns[Number(part)] as string) : part === '' ? null : `'${part}'`,
  );
  return sql.filter((p): p is string => p !== null).join(' || ');
}
