import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from './paths.js';

/** `CONDUIT_API_KEY` from the text of a dotenv file (`KEY=value` lines, optional quotes), if set. */
export function apiKeyFromEnvFile(text: string): string | undefined {
  const raw = /^\s*(?:export\s+)?CONDUIT_API_KEY\s*=\s*(.*)$/m.exec(text)?.[1]?.trim();
  const key = raw?.replace(/^(['"])(.*)\1$/, '$2').trim();
  return key ? key : undefined;
}

/**
 * `Authorization: Bearer <key>` with the development admin key: `CONDUIT_API_KEY` from the
 * environment, else the one `npm run up` wrote to `.conduit/dev.env`.
 */
export function authHeaders(root = ROOT, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const file = resolve(root, '.conduit/dev.env');
  const key =
    env['CONDUIT_API_KEY'] || (existsSync(file) ? apiKeyFromEnvFile(readFileSync(file, 'utf8')) : undefined);
  if (!key) {
    throw new Error('no API key: run `npm run up` (writes .conduit/dev.env) or set CONDUIT_API_KEY');
  }
  return { authorization: `Bearer ${key}` };
}

/**
 * Headers of an admin key of `orgId` (tier `internal`: limits no bench reaches), creating the
 * org, a user and the key with the platform admin key in `admin`. Scenarios that need their
 * own org (a data set of their own) use this; the org comes from the key.
 */
export async function orgAuthHeaders(
  gatewayUrl: string,
  admin: Readonly<Record<string, string>>,
  orgId: string,
): Promise<Record<string, string>> {
  const post = async (path: string, body: unknown, allowConflict = false) => {
    const res = await fetch(`${gatewayUrl}/api/v1/admin/orgs${path}`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status !== 201 && !(allowConflict && res.status === 409))
      throw new Error(`POST /api/v1/admin/orgs${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  await post('', { id: orgId, name: orgId, tier: 'internal' }, true);
  const user = await post(`/${orgId}/users`, {
    email: `bench-${randomBytes(4).toString('hex')}@${orgId}.local`,
  });
  const key = await post(`/${orgId}/keys`, { user_id: user['id'], role: 'admin', name: 'bench' });
  return { authorization: `Bearer ${key['key'] as string}` };
}
