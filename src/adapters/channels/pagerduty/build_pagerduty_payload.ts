/**
 * The PagerDuty Events API v2 body for one alert notice.
 *
 * @module
 */

import { describeDrivers } from "../../../segments/describe_drivers.ts";
import type { AlertMessage } from "../../../ports.ts";
import type { Severity } from "../../../types.ts";
import { COMPARISON_CODES } from "../../../types.ts";
import {
  formatPercentChange,
  formatValue,
} from "../../../format/format_number.ts";

/** A PagerDuty Events API v2 event. */
export interface PagerDutyEvent {
  /** The integration (routing) key of the service. */
  routing_key: string;
  /** `trigger` for a firing alert, `resolve` when it cleared. */
  event_action: "trigger" | "resolve";
  /** Ties the resolve to its trigger. */
  dedup_key: string;
  /** The alert, on `trigger` only. */
  payload?: {
    summary: string;
    source: string;
    severity: "critical" | "error" | "warning" | "info";
    timestamp: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  /** Who sent it. */
  client?: string;
}

/** Options of {@linkcode buildPagerDutyPayload}. */
export interface BuildPagerDutyPayloadOptions {
  /** The `payload.source` field. @default "kpi-engine" */
  source?: string;
}

const SEVERITY: Readonly<
  Record<Severity, "critical" | "warning" | "info">
> = { critical: "critical", warning: "warning", info: "info" };

/**
 * Builds the Events API v2 event for one alert notice: a `trigger` whose
 * `dedup_key` is the notice's (KPI, rule and period), with the summary,
 * severity (critical → critical, warning → warning, info → info) and the
 * value, period, condition and comparisons as custom details; or, for a
 * resolved notice, a `resolve` with the same `dedup_key`.
 *
 * @param message The alert notice.
 * @param routingKey The service's integration key.
 * @param options The source name.
 * @returns The JSON body to POST to `/v2/enqueue`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const message = {
 *   status: "resolved" as const, repeat: false,
 *   kpi: { name: "revenue", label: "Revenue", unit: "USD" }, value: 120000,
 *   period: { label: "2024-12", start: "2024-12-01", end: "2025-01-01" },
 *   severity: "critical" as const, condition: "< 100000",
 *   rule: "critical:< 100000", message: "Resolved", comparisons: {},
 *   dedupKey: "kpi-engine/revenue/critical:< 100000/2024-11-01..2024-12-01",
 *   runId: "r2", runAt: "2025-01-01T09:00:00Z",
 * };
 * const event = buildPagerDutyPayload(message, "R0UTING");
 * assert.equal(event.event_action, "resolve");
 * assert.equal(event.dedup_key, message.dedupKey);
 * ```
 */
export function buildPagerDutyPayload(
  message: AlertMessage,
  routingKey: string,
  options: BuildPagerDutyPayloadOptions = {},
): PagerDutyEvent {
  if (message.status === "resolved") {
    return {
      routing_key: routingKey,
      event_action: "resolve",
      dedup_key: message.dedupKey,
      client: "kpi-engine",
    };
  }
  const value = formatValue(message.value, message.kpi.unit, {
    missing: "n/a",
  });
  const summary =
    `${message.kpi.label} is ${value} for ${message.period.label}: ${message.message}`;
  const comparisons: Record<string, string> = {};
  for (const code of COMPARISON_CODES) {
    const comparison = message.comparisons[code];
    if (comparison) {
      comparisons[code] = formatPercentChange(comparison.changePct);
    }
  }
  return {
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key: message.dedupKey,
    payload: {
      summary: summary.length <= 1024 ? summary : `${summary.slice(0, 1023)}…`,
      source: options.source ?? "kpi-engine",
      severity: SEVERITY[message.severity] ?? "warning",
      timestamp: message.runAt,
      component: message.kpi.name,
      group: "kpi",
      class: message.condition,
      custom_details: {
        kpi: message.kpi.name,
        label: message.kpi.label,
        value: message.value,
        unit: message.kpi.unit,
        period: message.period,
        condition: message.condition,
        message: message.message,
        changes: comparisons,
        comparisons: message.comparisons,
        repeat: message.repeat,
        run_id: message.runId,
        ...(message.drivers
          ? {
            drivers: {
              compare: message.drivers.compare,
              change: message.drivers.change,
              summary: describeDrivers(message.drivers.drivers, { max: 5 }),
              segments: message.drivers.drivers,
              unexplained: message.drivers.unexplained,
            },
          }
          : {}),
      },
    },
    client: "kpi-engine",
  };
}
