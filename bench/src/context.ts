import { positiveNumber } from './args.js';
import { authHeaders } from './auth.js';

export { ROOT } from './paths.js';

/** What every scenario gets: where the gateway is, how to authenticate, and its flags. */
export interface BenchContext {
  /** `CONDUIT_GATEWAY_URL`, default `http://127.0.0.1:3000`, without a trailing slash. */
  readonly gatewayUrl: string;
  /** Authentication headers to send with every request (see `auth.ts`). */
  readonly headers: Readonly<Record<string, string>>;
  readonly flags: Readonly<Record<string, string>>;
  /** `--name` as a positive number, or `fallback`; a bad value is a usage error (exit 2). */
  flag(name: string, fallback: number): number;
}

export function createContext(flags: Readonly<Record<string, string>>): BenchContext {
  let headers: Record<string, string> | undefined;
  return {
    gatewayUrl: (process.env['CONDUIT_GATEWAY_URL'] ?? 'http://127.0.0.1:3000').replace(/\/+$/, ''),
    // Read on first use: scenarios that need no stack (cache) need no key either.
    get headers() {
      return (headers ??= authHeaders());
    },
    flags,
    flag: (name, fallback) => positiveNumber(flags, name, fallback),
  };
}
