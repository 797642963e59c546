import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');

/** What every scenario gets: where the gateway is, how to authenticate, and its flags. */
export interface BenchContext {
  readonly gatewayUrl: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly flags: Readonly<Record<string, string>>;
  flag(name: string, fallback: number): number;
}

/**
 * Auth for the running stack: the development key in .conduit/dev.env when `npm run up` wrote
 * one, else the development org header.
 */
export function authHeaders(): Record<string, string> {
  const file = resolve(ROOT, '.conduit/dev.env');
  if (existsSync(file)) {
    const key = /^CONDUIT_API_KEY=(.+)$/m.exec(readFileSync(file, 'utf8'))?.[1]?.trim();
    if (key) return { authorization: `Bearer ${key}` };
  }
  return { 'x-org-id': 'bench-org' };
}

export function createContext(flags: Record<string, string>): BenchContext {
  return {
    gatewayUrl: process.env['CONDUIT_GATEWAY_URL'] ?? 'http://127.0.0.1:3000',
    headers: authHeaders(),
    flags,
    flag(name, fallback) {
      const raw = flags[name];
      const value = raw === undefined ? fallback : Number(raw);
      if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
      return value;
    },
  };
}
