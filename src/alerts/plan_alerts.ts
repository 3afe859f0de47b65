/**
 * Turns a run's rule outcomes and the remembered alert state into the
 * notices to send: which rule, which action, which channels, what message.
 *
 * @module
 */

import type {
  AlertBatch,
  AlertRule,
  AlertState,
  KPIResult,
  TriggeredAlert,
} from "../types.ts";
import type { AlertMessage, RuleEvaluation } from "../ports.ts";
import {
  type AlertAction,
  type AlertDecision,
  type AlertDecisionInput,
  decideAlertAction,
} from "./decide_alert_action.ts";
import { alertDedupKey } from "./alert_dedup_key.ts";
import { renderAlertMessage } from "./render_alert_message.ts";

/** One KPI rule's decision in a run, with the notice to send. */
export interface PlannedAlert {
  /** KPI name. */
  kpi: string;
  /** Rule id within the KPI. */
  ruleId: string;
  /** The rule. */
  rule: AlertRule;
  /** What to send: `none` when the rule is quiet or already notified. */
  action: AlertAction;
  /** The notice (for `none`, what a `fire` would have said). */
  message: AlertMessage;
  /** Configured channels to send to. */
  targets: string[];
  /** Channel names the rule lists that are not configured. */
  unknownChannels: string[];
  /** The state to keep after sending; null to keep what there is. */
  state: AlertState | null;
  /** The triggered alert on the result; null if the rule did not hold. */
  triggered: TriggeredAlert | null;
  /** Why the rule was skipped, e.g. a bad `repeatInterval`; otherwise absent. */
  problem?: string;
}

/** Options of {@linkcode planAlerts}. */
export interface PlanAlertsOptions {
  /** The names of the configured channels; a rule without `channels` routes to all. */
  channels: readonly string[];
  /** The current moment. */
  now: Temporal.Instant;
  /**
   * The remembered state of a KPI's rule. Absent when there is no store:
   * then each run stands alone, every rule that holds fires and nothing is
   * ever resolved. @default undefined
   */
  getState?: (kpi: string, rule: string) => AlertState | null;
}

/**
 * Plans the notices of one run: for every rule of every KPI in the batch,
 * decides with {@linkcode decideAlertAction} whether to fire, repeat,
 * resolve or stay quiet, routes to the rule's `channels` (default every
 * configured channel) and builds the {@linkcode AlertMessage}. Rules whose
 * KPI could not be computed keep their state. Pure: no I/O, no clock.
 *
 * @param batch The run's results and rule outcomes.
 * @param options Configured channel names, the current moment, the state.
 * @returns One entry per rule, in batch order.
 *
 * @example Without a store, a rule that holds fires to every channel
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const rule = { condition: "< 100000", severity: "critical" as const };
 * const plans = planAlerts({
 *   runId: "r1", runAt: "2024-12-01T09:00:00Z",
 *   period: { label: "2024-11", start: "2024-11-01", end: "2024-12-01", timezone: "UTC" },
 *   items: [{
 *     definition: { name: "revenue", source: "sql", alerts: [rule] },
 *     result: {
 *       name: "revenue", label: "Revenue", unit: "USD", value: 86250,
 *       periodStart: "2024-11-01", periodEnd: "2024-12-01", comparisons: {},
 *       momChangePct: null, yoyChangePct: null, alertStatus: "critical",
 *       alertsTriggered: [], queryDurationMs: 1, error: null, note: null,
 *     },
 *     rules: [{ rule, ruleId: "critical:< 100000", holds: true, triggered: null }],
 *   }],
 * }, { channels: ["slack", "oncall"], now: Temporal.Instant.from("2024-12-01T09:00:00Z") });
 * assert.equal(plans[0]?.action, "fire");
 * assert.deepEqual(plans[0]?.targets, ["slack", "oncall"]);
 * ```
 */
export function planAlerts(
  batch: AlertBatch,
  options: PlanAlertsOptions,
): PlannedAlert[] {
  const configured = new Set(options.channels);
  return batch.items.flatMap((item) =>
    item.rules.map((evaluation) =>
      planRule(batch, item.result, evaluation, configured, options)
    )
  );
}

/** One rule's plan: its routes, its decision and its notice. */
function planRule(
  batch: AlertBatch,
  result: KPIResult,
  evaluation: RuleEvaluation,
  configured: ReadonlySet<string>,
  options: PlanAlertsOptions,
): PlannedAlert {
  const { rule, ruleId } = evaluation;
  const routed = rule.channels ?? [...configured];
  const known = routed.filter((name) => configured.has(name));
  const unknownChannels = routed.filter((name) => !configured.has(name));
  const { decision, problem } = decide(result, evaluation, known, options);
  const plan: PlannedAlert = {
    kpi: result.name,
    ruleId,
    rule,
    action: decision.action,
    message: alertMessage(batch, result, evaluation, decision),
    targets: decision.targets,
    unknownChannels: decision.action === "none" ? [] : unknownChannels,
    state: options.getState ? decision.state : null,
    triggered: evaluation.holds ? evaluation.triggered : null,
  };
  if (problem !== undefined) plan.problem = problem;
  return plan;
}

/**
 * The state decision of one rule. A KPI that could not be computed keeps
 * its state; a bad `repeat_interval` decides without reminders, and says
 * why.
 */
function decide(
  result: KPIResult,
  evaluation: RuleEvaluation,
  channels: string[],
  options: PlanAlertsOptions,
): { decision: AlertDecision; problem?: string } {
  const { rule, ruleId } = evaluation;
  const unknown = result.error !== null || result.value === null;
  const previous = options.getState?.(result.name, ruleId) ?? null;
  const input: AlertDecisionInput = {
    kpi: result.name,
    rule: ruleId,
    holds: evaluation.holds ? true : unknown ? null : false,
    severity: rule.severity,
    periodStart: result.periodStart,
    periodEnd: result.periodEnd,
    now: options.now,
    channels,
  };
  try {
    return {
      decision: decideAlertAction(previous, {
        ...input,
        repeatInterval: rule.repeatInterval ?? null,
      }),
    };
  } catch (error) {
    return {
      decision: decideAlertAction(previous, input),
      problem: error instanceof Error ? error.message : String(error),
    };
  }
}

/** The notice a decision sends (for `none`, what a `fire` would say). */
function alertMessage(
  batch: AlertBatch,
  result: KPIResult,
  evaluation: RuleEvaluation,
  decision: AlertDecision,
): AlertMessage {
  const { rule, ruleId } = evaluation;
  const resolved = decision.action === "resolve";
  const alertPeriod = decision.alertPeriod ??
    { start: result.periodStart, end: result.periodEnd };
  const message: AlertMessage = {
    status: resolved ? "resolved" : "firing",
    repeat: decision.action === "repeat",
    kpi: { name: result.name, label: result.label, unit: result.unit },
    value: result.value,
    period: {
      label: batch.period.label,
      start: result.periodStart,
      end: result.periodEnd,
    },
    severity: rule.severity,
    condition: rule.condition,
    rule: ruleId,
    // Every notice, firing or resolved, is worded here by the one
    // renderer (the engine's firing text on results comes from it too).
    message: renderAlertMessage(rule, result, {
      periodLabel: batch.period.label,
      resolved,
    }),
    comparisons: result.comparisons,
    dedupKey: alertDedupKey(result.name, ruleId, {
      periodStart: alertPeriod.start,
      periodEnd: alertPeriod.end,
    }),
    runId: batch.runId,
    runAt: batch.runAt,
  };
  if (result.drivers && !resolved) message.drivers = result.drivers;
  return message;
}
