import { describe, expect, it } from 'vitest';
import { parseArgs, positiveNumber, UsageError } from './args.js';

describe('parseArgs', () => {
  it('takes the scenario and flag values in both spellings', () => {
    expect(parseArgs(['device-list', '--duration', '5', '--rate=500'])).toEqual({
      name: 'device-list',
      help: false,
      flags: { duration: '5', rate: '500' },
    });
  });

  it('accepts flags before the scenario', () => {
    expect(parseArgs(['--connections', '32', 'device-list']).name).toBe('device-list');
  });

  it('reads a flag without a value as a switch and does not swallow the next flag', () => {
    expect(parseArgs(['x', '--verbose', '--duration', '5']).flags).toEqual({
      verbose: 'true',
      duration: '5',
    });
    expect(parseArgs(['x', '--verbose']).flags).toEqual({ verbose: 'true' });
  });

  it('recognises --help and -h anywhere', () => {
    expect(parseArgs(['--help']).help).toBe(true);
    expect(parseArgs(['device-list', '-h']).help).toBe(true);
    expect(parseArgs(['device-list']).help).toBe(false);
  });

  it('rejects a second scenario', () => {
    expect(() => parseArgs(['a', 'b'])).toThrow(UsageError);
  });
});

describe('positiveNumber', () => {
  it('falls back when the flag is absent', () => {
    expect(positiveNumber({}, 'rate', 1000)).toBe(1000);
  });

  it('parses the value', () => {
    expect(positiveNumber({ rate: '250.5' }, 'rate', 1000)).toBe(250.5);
  });

  it.each(['0', '-1', 'abc', '', 'true', 'Infinity'])('rejects %j', (raw) => {
    expect(() => positiveNumber({ rate: raw }, 'rate', 1000)).toThrow(/--rate must be a positive number/);
  });
});
