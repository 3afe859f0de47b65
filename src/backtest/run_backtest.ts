/**
 * Backtests: the alert rules replayed over a KPI's past, through the same
 * planning and state machine as live runs, on a simulated clock, with
 * nothing sent. The answer is what the rules would have done: when each
 * fired and resolved, how many notices each channel would have received,
 * and the longest stretch each held.
 *
 * @module
 */

import { planAlerts } from "../alerts/plan_alerts.ts";
import type { AlertBatch, RuleEvaluation } from "../ports.ts";
import type {
  AlertState,
  KPIDefinition,
  KPIResult,
  Period,
  Severity,
} from "../types.ts";

/** One notice a rule would have sent. */
export interface BacktestEvent {
  /** `firing` when the rule started to hold (or repeated), `resolved` when it cleared. */
  status: "firing" | "resolved";
  /** The period whose run sent it. */
  period: { label: string; start: string; end: string };
  /** The rule's severity. */
  severity: Severity;
  /** True for a reminder sent by `repeat_interval` while the rule still held. */
  repeat: boolean;
  /** The channels it would have gone to. */
  channels: string[];
}

/** What one rule would have done over the span. */
export interface BacktestRule {
  /** The rule's id within the KPI (`severity:condition`). */
  ruleId: string;
  /** The condition as written. */
  condition: string;
  /** The rule's severity. */
  severity: Severity;
  /** Every notice, in time order. */
  events: BacktestEvent[];
  /** Notices each channel would have received. */
  notices: Record<string, number>;
  /** How many periods the condition held. */
  periodsHeld: number;
  /** The longest run of consecutive periods in which it held, or null. */
  longestFiring: { periods: number; start: string; end: string } | null;
}

/** One period of a KPI in a backtest: the data for a chart. */
export interface BacktestPoint {
  /** First day of the period. */
  periodStart: string;
  /** First day after the period. */
  periodEnd: string;
  /** The KPI's value, or null. */
  value: number | null;
  /** The ids of the rules that held. */
  holding: string[];
  /** The anomaly band, when the KPI has one. */
  expected?: number | null;
  /** Lower edge of the anomaly band. */
  lower?: number | null;
  /** Upper edge of the anomaly band. */
  upper?: number | null;
}

/** What one KPI's rules would have done. */
export interface BacktestKpi {
  /** The KPI's name. */
  name: string;
  /** Its label. */
  label: string;
  /** Its unit, or null. */
  unit: string | null;
  /** Each rule's events and counts. */
  rules: BacktestRule[];
  /** Every period's value and the rules that held. */
  points: BacktestPoint[];
}

/** The answer of `engine.backtest()`. */
export interface BacktestReport {
  /** The grain of the periods replayed. */
  grain: string;
  /** First day of the first period. */
  start: string;
  /** First day after the last period. */
  end: string;
  /** How many periods were replayed. */
  periods: number;
  /** The KPIs with alert rules, in definition order. */
  kpis: BacktestKpi[];
  /** Notices each channel would have received, over all KPIs. */
  notices: Record<string, number>;
}

/** What {@linkcode replayAlerts} needs for each KPI and period. */
export interface ReplayInput {
  /** The KPIs whose rules are replayed. */
  definitions: readonly KPIDefinition[];
  /** The periods, oldest first. */
  periods: readonly Period[];
  /** The configured channel names. */
  channels: readonly string[];
  /** The grain's name, for the report. */
  grain: string;
  /** Builds a KPI's result and rule evaluations for a period, as a live run does. */
  evaluate(
    definition: KPIDefinition,
    period: Period,
  ): { result: KPIResult; rules: RuleEvaluation[] };
  /** When the run of a period happens on the simulated clock. */
  runAt(period: Period): Temporal.Instant;
}

/**
 * Replays alert rules period by period through `planAlerts` (the live
 * runs' planning and state machine), keeping alert state in memory and
 * counting each planned notice as delivered.
 *
 * @param input The KPIs, periods, channels and the evaluation of a period.
 * @returns What the rules would have done.
 */
export function replayAlerts(input: ReplayInput): BacktestReport {
  const states = new Map<string, AlertState>();
  const key = (kpi: string, rule: string) => `${kpi}\u0000${rule}`;
  const total: Record<string, number> = {};
  const kpis: BacktestKpi[] = [];
  for (const definition of input.definitions) {
    const rules: BacktestRule[] = (definition.alerts ?? []).map((rule) => ({
      ruleId: `${rule.severity}:${rule.condition}`,
      condition: rule.condition,
      severity: rule.severity,
      events: [],
      notices: {},
      periodsHeld: 0,
      longestFiring: null,
    }));
    const streaks = rules.map(() => ({ length: 0, start: "" }));
    const points: BacktestPoint[] = [];
    for (const period of input.periods) {
      const { result, rules: evaluations } = input.evaluate(definition, period);
      const runAt = input.runAt(period);
      const batch: AlertBatch = {
        runId: `backtest-${period.start}`,
        runAt: runAt.toString(),
        period,
        items: [{ definition, result, rules: evaluations }],
      };
      const plans = planAlerts(batch, {
        channels: input.channels,
        now: runAt,
        getState: (kpi, rule) => states.get(key(kpi, rule)) ?? null,
      });
      const point: BacktestPoint = {
        periodStart: period.start,
        periodEnd: period.end,
        value: result.value,
        holding: evaluations.filter((e) => e.holds).map((e) => e.ruleId),
      };
      if (result.anomaly) {
        point.expected = result.anomaly.expected;
        point.lower = result.anomaly.lower;
        point.upper = result.anomaly.upper;
      }
      points.push(point);
      plans.forEach((plan, i) => {
        const summary = rules[i]!;
        const streak = streaks[i]!;
        if (evaluations[i]?.holds) {
          summary.periodsHeld++;
          if (streak.length === 0) streak.start = period.start;
          streak.length++;
          if (streak.length > (summary.longestFiring?.periods ?? 0)) {
            summary.longestFiring = {
              periods: streak.length,
              start: streak.start,
              end: period.end,
            };
          }
        } else {
          streak.length = 0;
        }
        if (plan.state !== null) {
          const state: AlertState = {
            ...plan.state,
            channels: [...plan.state.channels],
          };
          if (plan.action !== "resolve") {
            for (const name of plan.targets) {
              if (!state.channels.includes(name)) state.channels.push(name);
            }
          }
          if (plan.action !== "none") {
            states.set(key(plan.kpi, plan.ruleId), state);
          }
        }
        if (plan.action === "none") return;
        summary.events.push({
          status: plan.action === "resolve" ? "resolved" : "firing",
          period: { label: period.label, start: period.start, end: period.end },
          severity: plan.rule.severity,
          repeat: plan.action === "repeat",
          channels: [...plan.targets],
        });
        for (const name of plan.targets) {
          summary.notices[name] = (summary.notices[name] ?? 0) + 1;
          total[name] = (total[name] ?? 0) + 1;
        }
      });
    }
    kpis.push({
      name: definition.name,
      label: definition.label ?? definition.name,
      unit: definition.unit ?? null,
      rules,
      points,
    });
  }
  return {
    grain: input.grain,
    start: input.periods[0]?.start ?? "",
    end: input.periods.at(-1)?.end ?? "",
    periods: input.periods.length,
    kpis,
    notices: total,
  };
}
