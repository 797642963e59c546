import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apiKeyFromEnvFile, authHeaders } from './auth.js';

describe('apiKeyFromEnvFile', () => {
  it('finds the key among other lines', () => {
    expect(apiKeyFromEnvFile('A=1\nCONDUIT_API_KEY=abc123\nB=2\n')).toBe('abc123');
  });

  it('strips quotes, export and spaces', () => {
    expect(apiKeyFromEnvFile('export CONDUIT_API_KEY = "k-1"\n')).toBe('k-1');
    expect(apiKeyFromEnvFile("CONDUIT_API_KEY='k-2'")).toBe('k-2');
  });

  it('is undefined when absent or empty', () => {
    expect(apiKeyFromEnvFile('OTHER=1')).toBeUndefined();
    expect(apiKeyFromEnvFile('CONDUIT_API_KEY=\n')).toBeUndefined();
    expect(apiKeyFromEnvFile('XCONDUIT_API_KEY=nope')).toBeUndefined();
  });
});

describe('authHeaders', () => {
  const dirs: string[] = [];
  const root = (devEnv?: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-auth-'));
    dirs.push(dir);
    if (devEnv !== undefined) {
      mkdirSync(join(dir, '.conduit'));
      writeFileSync(join(dir, '.conduit/dev.env'), devEnv);
    }
    return dir;
  };
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('sends the development key as a bearer token when dev.env has one', () => {
    expect(authHeaders(root('CONDUIT_API_KEY=secret\n'), {})).toEqual({ authorization: 'Bearer secret' });
  });

  it('prefers CONDUIT_API_KEY from the environment', () => {
    expect(authHeaders(root('CONDUIT_API_KEY=file\n'), { CONDUIT_API_KEY: 'env' })).toEqual({
      authorization: 'Bearer env',
    });
  });

  it('refuses to run without a key, saying how to get one', () => {
    expect(() => authHeaders(root(), {})).toThrow(/npm run up/);
    expect(() => authHeaders(root('OTHER=1\n'), {})).toThrow(/CONDUIT_API_KEY/);
  });
});
