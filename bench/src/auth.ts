import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from './paths.js';

/** The development org used when the stack has no API key (the current development mode). */
export const BENCH_ORG = 'bench-org';

/** `CONDUIT_API_KEY` from the text of a dotenv file (`KEY=value` lines, optional quotes), if set. */
export function apiKeyFromEnvFile(text: string): string | undefined {
  const raw = /^\s*(?:export\s+)?CONDUIT_API_KEY\s*=\s*(.*)$/m.exec(text)?.[1]?.trim();
  const key = raw?.replace(/^(['"])(.*)\1$/, '$2').trim();
  return key ? key : undefined;
}

/**
 * Request headers that authenticate every scenario against the running stack: the key that
 * `npm run up` wrote to `.conduit/dev.env` (`Authorization: Bearer …`) when there is one, else
 * the development org header `x-org-id: bench-org`.
 */
export function authHeaders(root = ROOT): Record<string, string> {
  const file = resolve(root, '.conduit/dev.env');
  const key = existsSync(file) ? apiKeyFromEnvFile(readFileSync(file, 'utf8')) : undefined;
  return key ? { authorization: `Bearer ${key}` } : { 'x-org-id': BENCH_ORG };
}
