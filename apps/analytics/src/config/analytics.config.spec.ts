import { ConfigError } from '@conduit/config';
import { describe, expect, it } from 'vitest';
import { loadAnalyticsConfig } from './analytics.config.js';

describe('loadAnalyticsConfig', () => {
  it('maps the test preset to typed options', () => {
    const sut = loadAnalyticsConfig({ CONDUIT_PRESET: 'test' });
    expect(sut.service.detector).toEqual({ alpha: 0.01, warmup: 30, zThreshold: 5, cusumK: 0.5, cusumH: 12 });
    expect(sut.service.anomalyAlerts).toEqual({ enabled: true, severity: 'warning', resolveAfterPoints: 10 });
    expect(sut.service.capacity.pointsPerCoreS).toBe(42_500);
  });

  it('names every invalid variable', () => {
    try {
      loadAnalyticsConfig({
        CONDUIT_PRESET: 'test',
        ANALYTICS_EWMA_ALPHA: '2',
        ANALYTICS_ANOMALY_SEVERITY: 'loud',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('ANALYTICS_EWMA_ALPHA');
      expect((error as Error).message).toContain('ANALYTICS_ANOMALY_SEVERITY');
    }
  });
});
