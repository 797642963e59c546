/** The stack is not there: the run exits 1 with this message. */
export class UnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreachableError';
  }
}

/** `fetch`'s "fetch failed" with the reason underneath (ECONNREFUSED, time-out…). */
export function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}

/**
 * Fails fast with a clear message when nothing answers at `baseUrl`; a `/readyz` that answers but
 * is not 200 is only a warning (a scenario may not need every dependency).
 */
export async function ensureReachable(baseUrl: string, timeoutMs = 3_000): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new UnreachableError(
      `nothing answers at ${baseUrl} (${describeFetchError(error)}): start the stack with \`npm run up\` or set CONDUIT_GATEWAY_URL`,
    );
  }
  const text = await res.text();
  if (res.status !== 200)
    console.warn(`warning: ${baseUrl}/readyz answered ${res.status}: ${text.slice(0, 300)}`);
}
