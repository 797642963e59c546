import { describe, expect, it } from 'vitest';
import { cpuMsPerUnit, parseProcessTicks, processGroup, type ProcessReading } from './process-cpu.js';

describe('parseProcessTicks', () => {
  it('adds utime and stime, counting fields after the last parenthesis of the name', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
    const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 900 0 3 0 1234 567 0 0 20 0 11 0 55';
    expect(parseProcessTicks(stat)).toBe(1234 + 567);
  });

  it('gives undefined for a line it cannot read', () => {
    expect(parseProcessTicks('garbage')).toBeUndefined();
    expect(parseProcessTicks('1 (x) S 1')).toBeUndefined();
  });
});

describe('processGroup', () => {
  it.each([
    [
      'node_modules/.bin/node --enable-source-maps --import ./dist/apps/gateway/src/instrument.js ./dist/apps/gateway/src/main.js',
      'gateway',
    ],
    [
      'node --import ./dist/apps/device-control/src/instrument.js ./dist/apps/device-control/src/main.js',
      'device_control',
    ],
    ['postgres: 15/main: postgres conduit 127.0.0.1(52820) idle', 'postgres'],
    ['/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main', 'postgres'],
    ['pgbouncer -d /tmp/conduit-pgbouncer/pgbouncer.ini', 'pgbouncer'],
    ['/usr/sbin/nats-server -a 127.0.0.1 -p 4222 -js', 'nats'],
    ['redis-server 127.0.0.1:6379', 'redis'],
    ['node dist/bench/run.js commands --duration 5', 'bench'],
    ['/usr/sbin/mosquitto -c /etc/mosquitto/mosquitto.conf', 'other'],
    ['', 'other'],
  ])('%s → %s', (cmdline, group) => {
    expect(processGroup(cmdline)).toBe(group);
  });
});

describe('cpuMsPerUnit', () => {
  const at = (entries: [number, string, number][]) =>
    new Map<number, ProcessReading>(entries.map(([pid, group, ticks]) => [pid, { group, ticks }]));

  it('sums ticks per group over the units, a new process from zero, biggest first, with the total', () => {
    const before = at([
      [1, 'postgres', 100],
      [2, 'postgres', 50],
      [3, 'gateway', 10],
    ]);
    const after = at([
      [1, 'postgres', 130], // +30 ticks
      [2, 'postgres', 60], // +10
      [3, 'gateway', 30], // +20
      [4, 'postgres', 20], // started in between: +20
    ]);
    // 100 ticks/s: postgres 60 ticks = 600 ms, gateway 200 ms; over 100 units.
    const out = cpuMsPerUnit(before, after, 100);
    expect(out).toEqual({ postgres: 6, gateway: 2, total: 8 });
    expect(Object.keys(out)).toEqual(['postgres', 'gateway', 'total']);
  });

  it('counts a reused pid of another group from zero, and gives 0 per unit without units', () => {
    const before = at([[7, 'bench', 500]]);
    const after = at([[7, 'redis', 5]]);
    expect(cpuMsPerUnit(before, after, 10)).toEqual({ redis: 5, total: 5 });
    expect(cpuMsPerUnit(before, after, 0)).toEqual({ redis: 0, total: 0 });
  });
});
