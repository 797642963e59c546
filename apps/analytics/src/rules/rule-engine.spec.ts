import { describe, expect, it } from 'vitest';
import {
  RuleEngineService,
  breaches,
  newRuleState,
  type EngineRule,
  type RuleAction,
} from './rule-engine.service.js';

const rule = (overrides: Partial<EngineRule> = {}): EngineRule => ({
  condition: { op: 'gt', threshold: 80 },
  mode: { type: 'simple' },
  severity: 'warning',
  cooldown_seconds: 0,
  escalation: [],
  auto_resolve_after: 3,
  ...overrides,
});

describe(RuleEngineService.name, () => {
  const sut = new RuleEngineService();
  /** Feeds values one second apart; returns the actions with the index of the point. */
  const feed = (r: EngineRule, values: number[], state = newRuleState(), t0 = 0) =>
    values.flatMap((v, i) => {
      const action = sut.evaluate(r, state, t0 + i * 1000, breaches(r.condition, v), v);
      if (action?.type === 'raise') state.open = `alert-${i}`;
      return action ? [{ i, ...action }] : ([] as (RuleAction & { i: number })[]);
    });

  it('min occurrences 3 + cooldown: exactly one alert for a 10-point breach, auto-resolved after recovery', () => {
    const r = rule({ mode: { type: 'repeating', count: 3, window_seconds: 60 }, cooldown_seconds: 300 });
    const state = newRuleState();
    const actions = feed(r, [10, 10, ...Array<number>(10).fill(95), 10, 10, 10, 10], state);
    expect(actions).toEqual([
      { i: 4, type: 'raise', severity: 'warning', ts: 4_000, value: 95 },
      { i: 14, type: 'resolve', ts: 14_000 },
    ]);
    expect(state.open).toBeNull();
    // A new breach inside the cooldown raises nothing; after it, one alert again.
    expect(feed(r, [95, 95, 95, 95], state, 20_000)).toEqual([]);
    expect(feed(r, [95, 95, 95], state, 400_000).map((a) => a.type)).toEqual(['raise']);
  });

  it('repeating needs the occurrences inside the window', () => {
    const r = rule({ mode: { type: 'repeating', count: 3, window_seconds: 2 } });
    // Breaches 3 s apart never have 3 inside 2 s.
    const values = [95, 10, 10, 95, 10, 10, 95, 10, 10, 95];
    expect(feed(r, values)).toEqual([]);
  });

  it('duration raises once the breach lasted its seconds; a normal point restarts the clock', () => {
    const r = rule({ mode: { type: 'duration', seconds: 3 } });
    expect(feed(r, [95, 95, 95, 10, 95, 95, 95, 95]).map((a) => [a.i, a.type])).toEqual([[7, 'raise']]);
  });

  it('escalates while the breach lasts, each step once', () => {
    const r = rule({
      escalation: [
        { after_seconds: 2, severity: 'major' },
        { after_seconds: 4, severity: 'critical' },
      ],
      auto_resolve_after: 0,
    });
    expect(feed(r, [95, 95, 95, 95, 95, 95, 10, 10, 10, 10])).toEqual([
      { i: 0, type: 'raise', severity: 'warning', ts: 0, value: 95 },
      { i: 2, type: 'escalate', severity: 'major', ts: 2_000 },
      { i: 4, type: 'escalate', severity: 'critical', ts: 4_000 },
    ]);
  });

  it('outside a band and below a threshold', () => {
    expect(breaches({ op: 'outside', low: 5, high: 10 }, 4)).toBe(true);
    expect(breaches({ op: 'outside', low: 5, high: 10 }, 7)).toBe(false);
    expect(breaches({ op: 'lt', threshold: 5 }, 4)).toBe(true);
    expect(breaches({ op: 'lt', threshold: 5 }, 5)).toBe(false);
    expect(breaches({ op: 'no_data', minutes: 5 }, 1e9)).toBe(false);
  });

  it('a user resolution frees the series for a new alert (cooldown still applies)', () => {
    const r = rule({ cooldown_seconds: 0 });
    const state = newRuleState();
    expect(feed(r, [95, 95], state).map((a) => a.type)).toEqual(['raise']);
    sut.close(state);
    expect(feed(r, [95], state, 10_000).map((a) => a.type)).toEqual(['raise']);
  });

  it('late points (redelivered after newer ones) are judged in their own time: no cooldown 0 suppression', () => {
    const r = rule({ auto_resolve_after: 3 });
    const state = newRuleState();
    expect(feed(r, [95, 20, 20, 20], state, 100_000).map((a) => a.type)).toEqual(['raise', 'resolve']);
    expect(feed(r, [95, 20, 20, 20], state, 0).map((a) => a.type)).toEqual(['raise', 'resolve']);
    const cooled = rule({ cooldown_seconds: 60 });
    const other = newRuleState();
    feed(cooled, [95, 20, 20, 20], other, 100_000);
    // 30 s before the last raise is inside a 60 s cooldown, whichever side of it.
    expect(feed(cooled, [95], other, 70_000)).toEqual([]);
  });
});
