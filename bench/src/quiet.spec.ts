import { describe, expect, it } from 'vitest';
import { busyShare, parseCpuTimes } from './quiet.js';

describe('parseCpuTimes', () => {
  it('reads the aggregate cpu line, idle and iowait as idle, guest time not counted twice', () => {
    const stat = ['cpu  100 10 50 800 40 5 5 0 30 0', 'cpu0 50 5 25 400 20 2 3 0 15 0', 'intr 12345'].join(
      '\n',
    );
    expect(parseCpuTimes(stat)).toEqual({ busy: 170, total: 1010 });
  });

  it('gives undefined without a cpu line', () => {
    expect(parseCpuTimes('intr 1\nctxt 2\n')).toBeUndefined();
  });
});

describe('busyShare', () => {
  it('is the busy share of the ticks between two readings', () => {
    expect(busyShare({ busy: 100, total: 1000 }, { busy: 150, total: 1200 })).toBe(0.25);
  });

  it('is 0 when no time passed', () => {
    expect(busyShare({ busy: 5, total: 10 }, { busy: 5, total: 10 })).toBe(0);
  });
});
