import { HttpBridgeAdapter } from './http-bridge.adapter.js';
import { MqttAdapter } from './mqtt.adapter.js';
import type { VendorAdapter } from './vendor.adapter.js';

/**
 * The registration list: every vendor device-control can deliver to, by `VendorAdapter.name`.
 * A third vendor = one new `<name>.adapter.ts` file + one line here.
 */
export function createVendorAdapters(config: { mqttUrl: string; mqttSharedGroup?: string }): VendorAdapter[] {
  return [
    new HttpBridgeAdapter(),
    new MqttAdapter({ url: config.mqttUrl, sharedGroup: config.mqttSharedGroup || undefined }),
  ];
}
