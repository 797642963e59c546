import { SEVERITIES, type AlertRule, type RuleCondition, type Severity } from '@conduit/contracts';

/** What the engine needs of a rule (an {@link AlertRule}, or the anomaly detector's own pseudo-rule). */
export type EngineRule = Pick<
  AlertRule,
  'condition' | 'mode' | 'severity' | 'cooldown_seconds' | 'escalation' | 'auto_resolve_after'
>;

/** Condition-tracking state of one rule on one series. Plain JSON: persisted as it is. */
export interface RuleState {
  /** Id of the open alert this rule raised for the series, or null. */
  open: string | null;
  /** Current severity of the open alert. */
  severity: Severity | null;
  /** Point time (epoch ms) the open alert was raised at (escalation counts from it). */
  raisedTs: number | null;
  /** Point time of the last raise (cooldown counts from it). */
  lastRaiseTs: number | null;
  /** `duration`: point time the current unbroken breach started. */
  breachStart: number | null;
  /** `repeating`: point times of recent breaching points inside the window (at most `count`). */
  hits: number[];
  /** Consecutive normal points while an alert is open. */
  normal: number;
}

export type RuleAction =
  | {
      readonly type: 'raise';
      readonly severity: Severity;
      readonly ts: number;
      readonly value: number | null;
    }
  | { readonly type: 'escalate'; readonly severity: Severity; readonly ts: number }
  | { readonly type: 'resolve'; readonly ts: number };

export const newRuleState = (): RuleState => ({
  open: null,
  severity: null,
  raisedTs: null,
  lastRaiseTs: null,
  breachStart: null,
  hits: [],
  normal: 0,
});

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** Whether `value` breaches a value condition (`no_data` never breaches on a point). */
export function breaches(condition: RuleCondition, value: number): boolean {
  switch (condition.op) {
    case 'gt':
      return value > condition.threshold;
    case 'lt':
      return value < condition.threshold;
    case 'outside':
      return value < condition.low || value > condition.high;
    case 'no_data':
      return false;
  }
}

/** A human-readable reason for an alert message. */
export function describeCondition(condition: RuleCondition): string {
  switch (condition.op) {
    case 'gt':
      return `> ${condition.threshold}`;
    case 'lt':
      return `< ${condition.threshold}`;
    case 'outside':
      return `outside [${condition.low}, ${condition.high}]`;
    case 'no_data':
      return `no data for ${condition.minutes} min`;
  }
}

/**
 * Evaluates threshold rules point by point, in point time (so replays and late data give the same
 * result as live data). One open alert per rule and series: while it is open, breaching points can
 * only escalate it; `auto_resolve_after` consecutive normal points resolve it. A new alert needs
 * the mode's condition (`simple`: one breaching point; `duration`: breaching for `seconds`;
 * `repeating`: `count` breaching points within `window_seconds`) and the cooldown since the last
 * raise to have passed. Pure: the caller persists {@link RuleState} and carries out the actions.
 */
export class RuleEngineService {
  evaluate(
    rule: EngineRule,
    state: RuleState,
    ts: number,
    breach: boolean,
    value: number,
  ): RuleAction | undefined {
    if (!breach) {
      state.breachStart = null;
      if (state.open === null) return undefined;
      state.normal++;
      if (rule.auto_resolve_after > 0 && state.normal >= rule.auto_resolve_after) {
        this.close(state);
        return { type: 'resolve', ts };
      }
      return undefined;
    }
    state.normal = 0;
    if (state.open !== null) return this.escalation(rule, state, ts);

    let ready: boolean;
    switch (rule.mode.type) {
      case 'simple':
        ready = true;
        break;
      case 'duration':
        state.breachStart ??= ts;
        ready = ts - state.breachStart >= rule.mode.seconds * 1000;
        break;
      case 'repeating': {
        // |Δt|: after a crash, redelivered messages may arrive after newer ones.
        const windowMs = rule.mode.window_seconds * 1000;
        state.hits = state.hits.filter((t) => Math.abs(ts - t) < windowMs);
        state.hits.push(ts);
        if (state.hits.length > rule.mode.count) state.hits.shift();
        ready = state.hits.length >= rule.mode.count;
        break;
      }
    }
    if (!ready) return undefined;
    if (
      rule.cooldown_seconds > 0 &&
      state.lastRaiseTs !== null &&
      Math.abs(ts - state.lastRaiseTs) < rule.cooldown_seconds * 1000
    ) {
      return undefined;
    }
    state.open = 'pending';
    state.severity = rule.severity;
    state.raisedTs = ts;
    state.lastRaiseTs = ts;
    state.breachStart = null;
    state.hits = [];
    return { type: 'raise', severity: rule.severity, ts, value };
  }

  /** The alert was resolved outside the engine (by a user): forget it, keep the cooldown. */
  close(state: RuleState): void {
    state.open = null;
    state.severity = null;
    state.raisedTs = null;
    state.normal = 0;
  }

  private escalation(rule: EngineRule, state: RuleState, ts: number): RuleAction | undefined {
    if (state.raisedTs === null || state.severity === null) return undefined;
    const elapsed = ts - state.raisedTs;
    let target = state.severity;
    for (const step of rule.escalation) {
      if (elapsed >= step.after_seconds * 1000 && rank(step.severity) > rank(target)) target = step.severity;
    }
    if (target === state.severity) return undefined;
    state.severity = target;
    return { type: 'escalate', severity: target, ts };
  }
}
