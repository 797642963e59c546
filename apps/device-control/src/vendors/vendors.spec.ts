import { describe, expect, it } from 'vitest';
import { mqttSharedGroup } from './vendors.js';

describe(mqttSharedGroup.name, () => {
  it('names the group after the deployment’s database unless configured', () => {
    expect(mqttSharedGroup('', 'postgres://postgres@127.0.0.1:6432/conduit')).toBe('device-control-conduit');
    expect(mqttSharedGroup('', 'postgres://u:p@db:6432/conduit_test?sslmode=require')).toBe(
      'device-control-conduit_test',
    );
    expect(mqttSharedGroup('', 'postgres://db/fleet.eu%2Dwest')).toBe('device-control-fleet_eu-west');
  });

  it('keeps a configured group, and `off` means no shared subscription', () => {
    expect(mqttSharedGroup('prod-eu', 'postgres://db/conduit')).toBe('prod-eu');
    expect(mqttSharedGroup('off', 'postgres://db/conduit')).toBeUndefined();
  });
});
