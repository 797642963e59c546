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

/**
 * The MQTT shared-subscription group of this deployment's replicas: `MQTT_SHARED_GROUP` as set,
 * none for `off`, else `device-control-<database name>` — replicas of one deployment share a
 * database, and a group shared with another deployment on the same broker would hand it half
 * of this one's acks (seen: a dev stack left running took a test's ack, the command timed out).
 */
export function mqttSharedGroup(configured: string, databaseUrl: string): string | undefined {
  if (configured === 'off') return undefined;
  if (configured) return configured;
  const database = decodeURIComponent(new URL(databaseUrl).pathname.slice(1)) || 'postgres';
  return `device-control-${database.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}
