import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from './config.error.js';
import { envInt } from './env.js';
import { loadConfig, resolvePreset } from './load-config.js';

const def = {
  serviceName: 'sample',
  schema: { SAMPLE_BATCH: envInt(1, 100), SAMPLE_SECRET: z.string().min(8) },
  presets: {
    production: {},
    development: { HTTP_PORT: '3009', SAMPLE_BATCH: '10', SAMPLE_SECRET: 'dev-secret-1' },
    test: { HTTP_PORT: '3009', SAMPLE_BATCH: '5', SAMPLE_SECRET: 'test-secret' },
  },
  map: (env: { SAMPLE_BATCH: number }) => ({ batch: env.SAMPLE_BATCH }),
};

describe(loadConfig.name, () => {
  it('applies the preset defaults and maps to a nested object', () => {
    const sut = loadConfig(def, { CONDUIT_PRESET: 'test' });
    expect(sut.preset).toBe('test');
    expect(sut.http.port).toBe(3009);
    expect(sut.database.url).toBe('postgres://postgres@127.0.0.1:6432/conduit_test');
    expect(sut.nats.servers).toEqual(['nats://127.0.0.1:4222']);
    expect(sut.consumers.backoffMs).toEqual([1000, 5000, 15000, 30000]);
    expect(sut.service.batch).toBe(5);
  });

  it('lets the environment override a default', () => {
    const sut = loadConfig(def, {
      NODE_ENV: 'development',
      SAMPLE_BATCH: '42',
      NATS_URL: 'nats://a:1,nats://b:2',
    });
    expect(sut.service.batch).toBe(42);
    expect(sut.nats.servers).toEqual(['nats://a:1', 'nats://b:2']);
  });

  it('names every bad variable at once and never prints values', () => {
    const env = {
      CONDUIT_PRESET: 'production',
      SAMPLE_BATCH: '1000',
      SAMPLE_SECRET: 'short',
      HTTP_PORT: 'x',
    };
    let error: unknown;
    try {
      loadConfig(def, env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const names = (error as ConfigError).issues.map((i) => i.variable).sort();
    expect(names).toEqual(
      [
        'DATABASE_URL',
        'HTTP_PORT',
        'MIGRATION_DATABASE_URL',
        'NATS_URL',
        'REDIS_URL',
        'SAMPLE_BATCH',
        'SAMPLE_SECRET',
      ].sort(),
    );
    expect((error as Error).message).not.toContain('short');
    expect((error as Error).message).toContain('DATABASE_URL: required');
  });

  it('rejects an unknown preset', () => {
    expect(() => resolvePreset({ NODE_ENV: 'staging' })).toThrow(
      /NODE_ENV: one of production, development, test/,
    );
  });
});
