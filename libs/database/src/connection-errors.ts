/**
 * True when `error` means Postgres (or PgBouncer in front of it) cannot be reached or went away
 * — a dependency outage, answered 503, not a bug (500): refused or reset connections, connect
 * time-outs, SQLSTATE class 08 (connection exception) and 57P01–57P03 (shutting down, cannot
 * connect now).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03'].includes(code))
      return true;
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  return (
    typeof message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect|server conn crashed|no more connections allowed/i.test(
      message,
    )
  );
}
