import { createHash, randomBytes } from 'node:crypto';

/** Every key starts with this, so that secret scanners and people recognise it. */
export const KEY_PREFIX = 'cdt_';

/** A new key: 32 random bytes (256 bits), base64url. */
export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * SHA-256 of the key: what is stored and looked up. A slow salted hash (bcrypt, argon2) guards
 * low-entropy passwords against guessing; a 256-bit random key cannot be guessed, and its digest
 * must be computable on every request.
 */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** The first characters shown in listings so a user can tell keys apart (never enough to use). */
export const displayPrefix = (key: string): string => key.slice(0, KEY_PREFIX.length + 6);

/**
 * The key of a request: `Authorization: Bearer <key>` or `x-api-key: <key>`. Undefined when
 * neither is present; a malformed Authorization header is treated as absent.
 */
export function keyFromHeaders(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers['authorization'];
  if (typeof auth === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (match?.[1]) return match[1];
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey.trim() : undefined;
}
