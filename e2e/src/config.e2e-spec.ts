import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManagedProcess, ROOT } from './support/processes.js';

describe('service configuration', () => {
  it('stops start-up with exit 1 and one message naming every bad variable, without their values', async () => {
    const dist = join(ROOT, 'dist/apps/device-control/src');
    const proc = new ManagedProcess(
      'device-control',
      spawn(process.execPath, ['--import', join(dist, 'instrument.js'), join(dist, 'main.js')], {
        env: {
          PATH: process.env['PATH'],
          CONDUIT_PRESET: 'production',
          HTTP_PORT: 'not-a-port',
          NATS_URL: 'http://wrong-scheme',
          DATABASE_POOL_MAX: '0',
          REDIS_URL: 'redis://127.0.0.1:6379',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    await proc.waitForExit();
    const output = proc.output.join('');
    expect(proc.exitCode).toBe(1);
    for (const variable of [
      'HTTP_PORT',
      'NATS_URL',
      'DATABASE_POOL_MAX',
      'DATABASE_URL',
      'MIGRATION_DATABASE_URL',
    ]) {
      expect(output).toContain(`${variable}:`);
    }
    expect(output).not.toContain('REDIS_URL');
    expect(output).not.toContain('wrong-scheme');
  });
});
