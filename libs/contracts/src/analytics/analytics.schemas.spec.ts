import { describe, expect, it } from 'vitest';
import {
  createAlertRuleBodySchema,
  rollupsQuerySchema,
  updateAlertRuleBodySchema,
} from './analytics.schemas.js';

describe('createAlertRuleBodySchema', () => {
  it('fills defaults and refuses a band whose low is not below its high', () => {
    const sut = createAlertRuleBodySchema;
    expect(sut.parse({ name: 'hot', metric: 'temp', condition: { op: 'gt', threshold: 80 } })).toMatchObject({
      scope: {},
      mode: { type: 'simple' },
      severity: 'warning',
      cooldown_seconds: 0,
      escalation: [],
      auto_resolve_after: 3,
      enabled: true,
    });
    const bad = sut.safeParse({ name: 'x', metric: 'temp', condition: { op: 'outside', low: 9, high: 1 } });
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['condition.low']);
    expect(sut.safeParse({ name: 'x', metric: 'temp', condition: { op: 'eq', threshold: 1 } }).success).toBe(
      false,
    );
  });

  it('an update needs at least one field', () => {
    expect(updateAlertRuleBodySchema.safeParse({}).success).toBe(false);
    expect(updateAlertRuleBodySchema.parse({ enabled: false })).toEqual({ enabled: false });
  });
});

describe('rollupsQuerySchema', () => {
  it('reads comma lists from a query string and arrays passed on over NATS alike', () => {
    const q = { from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' };
    expect(rollupsQuerySchema.parse({ ...q, device: 'a,b', agg: 'max,count' })).toMatchObject({
      device: ['a', 'b'],
      agg: ['max', 'count'],
      interval: '1h',
    });
    expect(rollupsQuerySchema.parse({ ...q, device: ['a'], agg: ['sum'] })).toMatchObject({
      device: ['a'],
      agg: ['sum'],
    });
    expect(rollupsQuerySchema.safeParse({ ...q, device: 'a', interval: '5m' }).success).toBe(false);
  });
});
