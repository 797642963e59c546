import { Inject, Injectable } from '@nestjs/common';
import type { RuleScope } from '@conduit/contracts';
import { SERVICE_CONFIG } from '@conduit/runtime';
import type { AnalyticsConfig } from '../config/analytics.config.js';
import { DevicesRepository, type DeviceAttributes } from './devices.repository.js';

interface Entry {
  readonly attributes: DeviceAttributes | null;
  readonly at: number;
}

/**
 * Device attributes for rule scopes, from the `analytics.devices` projection, cached for
 * `ANALYTICS_DEVICE_CACHE_MS` (a registry change reaches rule scopes within that). Only consulted
 * for rules scoped by type, site or tag.
 */
@Injectable()
export class DeviceDirectoryService {
  private readonly cache = new Map<string, Entry>();
  private readonly ttlMs: number;

  constructor(
    private readonly devices: DevicesRepository,
    @Inject(SERVICE_CONFIG) config: AnalyticsConfig,
  ) {
    this.ttlMs = config.service.deviceCacheMs;
  }

  /** Loads (one query) the devices whose cached attributes are missing or expired. */
  async prefetch(keys: readonly { orgId: string; deviceId: string }[]): Promise<void> {
    const now = Date.now();
    const missing = keys.filter((k) => {
      const entry = this.cache.get(`${k.orgId}|${k.deviceId}`);
      return !entry || now - entry.at > this.ttlMs;
    });
    if (missing.length === 0) return;
    const found = new Map(
      (await this.devices.attributes(missing)).map((a) => [`${a.orgId}|${a.deviceId}`, a]),
    );
    for (const k of missing) {
      const key = `${k.orgId}|${k.deviceId}`;
      this.cache.set(key, { attributes: found.get(key) ?? null, at: now });
    }
  }

  /** Whether a device falls in a rule's scope (attribute scopes need {@link prefetch} first). */
  matches(scope: RuleScope, orgId: string, deviceId: string): boolean {
    if (scope.device_ids && !scope.device_ids.includes(deviceId)) return false;
    if (scope.device_type === undefined && scope.site === undefined && scope.tag === undefined) return true;
    const a = this.cache.get(`${orgId}|${deviceId}`)?.attributes;
    // A device analytics has not seen registered matches no attribute scope.
    if (!a) return false;
    if (scope.device_type !== undefined && a.type !== scope.device_type) return false;
    if (scope.site !== undefined && a.site !== scope.site) return false;
    if (scope.tag !== undefined && !a.tags.includes(scope.tag)) return false;
    return true;
  }
}

/** Whether a scope needs device attributes (type, site or tag). */
export const needsAttributes = (scope: RuleScope): boolean =>
  scope.device_type !== undefined || scope.site !== undefined || scope.tag !== undefined;
