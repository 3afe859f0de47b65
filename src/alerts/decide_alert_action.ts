/**
 * The alert state machine: whether a rule's outcome in this run means a new
 * notice, a reminder, a resolve notice or nothing, and the state to keep.
 *
 * @module
 */

import type { AlertState, Severity } from "../types.ts";
import { parseDuration } from "./parse_duration.ts";

/** What to do about one KPI's rule in this run. */
export type AlertAction = "fire" | "repeat" | "resolve" | "none";

/** The facts of this run for one KPI's rule. */
export interface AlertDecisionInput {
  /** KPI name. */
  kpi: string;
  /** Rule id within the KPI (`severity:condition`). */
  rule: string;
  /**
   * Whether the condition holds now; null when it cannot be told (the value
   * could not be computed), which leaves the state as it is.
   */
  holds: boolean | null;
  /** The rule's severity. */
  severity: Severity;
  /** First day of the period computed, ISO. */
  periodStart: string;
  /** First day after the period computed, ISO. */
  periodEnd: string;
  /** The current moment. */
  now: Temporal.Instant;
  /**
   * Send a reminder while the rule still holds after this long: a duration
   * such as `4h` or milliseconds. @default no reminders
   */
  repeatInterval?: string | number | null;
  /** The channels the rule routes to, by name. */
  channels: readonly string[];
}

/** The decision for one KPI's rule. */
export interface AlertDecision {
  /** What to send. */
  action: AlertAction;
  /** The channels to send to (empty for `none`). */
  targets: string[];
  /**
   * The state to keep when the sends succeed, or null to keep the state as
   * it was. Its `channels` are the channels told before this run; the
   * notifier adds those that accept this run's notice.
   */
  state: AlertState | null;
  /**
   * The period the alert fired for, which names it (see `alertDedupKey`):
   * this run's period for a new alert, the remembered one for a reminder or
   * a resolve; null for `none`.
   */
  alertPeriod: { start: string; end: string } | null;
}

/**
 * Decides what one KPI's alert rule calls for, given what was remembered.
 *
 * - A rule that starts to hold (no state, or resolved) `fire`s to every
 *   routed channel.
 * - While it keeps holding for the same period and severity, nothing is
 *   sent again, except to routed channels that were not told yet (their
 *   earlier sends failed, or they were added to the rule), and a `repeat`
 *   to every routed channel once `repeatInterval` has passed since the last
 *   send. A period that overlaps the one the alert fired for (a growing
 *   `this_month`, a rolling `last_7_days`) counts as the same period; a
 *   later, separate period or another severity `fire`s anew.
 * - A firing rule that no longer holds sends one `resolve` to the channels
 *   that were told.
 * - A run for a period that ends before the remembered one starts (a
 *   backfill) changes nothing, and neither does `holds: null`.
 *
 * @param previous The remembered state of this KPI's rule, or null.
 * @param input What holds in this run.
 * @returns The action, its target channels and the state to keep.
 * @throws {RangeError} When `repeatInterval` is not a valid duration.
 *
 * @example A rule fires once, then resolves
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const input = {
 *   kpi: "revenue", rule: "critical:< 100000", severity: "critical" as const,
 *   periodStart: "2024-11-01", periodEnd: "2024-12-01",
 *   now: Temporal.Instant.from("2024-12-01T09:00:00Z"), channels: ["slack"],
 * };
 * const first = decideAlertAction(null, { ...input, holds: true });
 * assert.equal(first.action, "fire");
 * const told = { ...first.state!, channels: ["slack"] };
 * assert.equal(decideAlertAction(told, { ...input, holds: true }).action, "none");
 * const cleared = decideAlertAction(told, { ...input, holds: false });
 * assert.equal(cleared.action, "resolve");
 * assert.deepEqual(cleared.targets, ["slack"]);
 * ```
 */
export function decideAlertAction(
  previous: AlertState | null,
  input: AlertDecisionInput,
): AlertDecision {
  const intervalMs = intervalOf(input.repeatInterval);
  if (input.holds === null) return { ...NONE };
  if (previous !== null && input.periodEnd <= previous.periodStart) {
    return { ...NONE };
  }
  const now = input.now.toString();
  if (!input.holds) return resolveDecision(previous, input, now);
  const routed = unique(input.channels);
  if (previous === null || previous.status !== "firing") {
    return fireDecision(input, routed, now);
  }
  const overlaps = input.periodStart < previous.periodEnd &&
    previous.periodStart < input.periodEnd;
  if (!overlaps || previous.severity !== input.severity) {
    return fireDecision(input, routed, now);
  }
  return stillFiringDecision(previous, input, routed, intervalMs, now);
}

const NONE: AlertDecision = {
  action: "none",
  targets: [],
  state: null,
  alertPeriod: null,
};

/** A new alert: fire to every routed channel, with a fresh state. */
function fireDecision(
  input: AlertDecisionInput,
  routed: string[],
  now: string,
): AlertDecision {
  return {
    action: "fire",
    targets: routed,
    state: {
      kpi: input.kpi,
      rule: input.rule,
      status: "firing",
      severity: input.severity,
      periodStart: input.periodStart,
      periodEnd: input.periodEnd,
      channels: [],
      firstFiredAt: now,
      lastSentAt: now,
    },
    alertPeriod: { start: input.periodStart, end: input.periodEnd },
  };
}

/** The rule no longer holds: resolve a firing alert with the channels told. */
function resolveDecision(
  previous: AlertState | null,
  input: AlertDecisionInput,
  now: string,
): AlertDecision {
  if (previous === null || previous.status !== "firing") return { ...NONE };
  return {
    action: "resolve",
    targets: [...previous.channels],
    state: {
      ...previous,
      status: "resolved",
      periodStart: input.periodStart,
      periodEnd: input.periodEnd,
      lastSentAt: now,
    },
    alertPeriod: { start: previous.periodStart, end: previous.periodEnd },
  };
}

/**
 * The same alert still holds: a reminder once `repeatInterval` has passed,
 * else a first notice to channels routed since, else nothing.
 */
function stillFiringDecision(
  previous: AlertState,
  input: AlertDecisionInput,
  routed: string[],
  intervalMs: number | null,
  now: string,
): AlertDecision {
  const alertPeriod = { start: previous.periodStart, end: previous.periodEnd };
  if (intervalMs !== null) {
    const since = input.now.epochMilliseconds -
      Temporal.Instant.from(previous.lastSentAt).epochMilliseconds;
    if (since >= intervalMs) {
      return {
        action: "repeat",
        targets: routed,
        state: { ...previous, lastSentAt: now },
        alertPeriod,
      };
    }
  }
  const missing = routed.filter((name) => !previous.channels.includes(name));
  if (missing.length > 0) {
    return {
      action: "fire",
      targets: missing,
      state: { ...previous, lastSentAt: now },
      alertPeriod,
    };
  }
  return { ...NONE };
}

function intervalOf(
  interval: string | number | null | undefined,
): number | null {
  if (interval === null || interval === undefined || interval === "") {
    return null;
  }
  if (typeof interval === "number") {
    if (!Number.isFinite(interval) || interval <= 0) {
      throw new RangeError(
        `Invalid repeat interval ${interval}: expected a positive number of milliseconds or a duration such as "4h"`,
      );
    }
    return interval;
  }
  return parseDuration(interval);
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}
