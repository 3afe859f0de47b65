/**
 * The webhook channel's JSON body for one alert notice.
 *
 * @module
 */

import type { AlertMessage } from "../ports.ts";
import type {
  AlertStateStatus,
  ComparisonCode,
  ComparisonResult,
  Severity,
} from "../types.ts";
import type { Driver } from "../segments/types.ts";

/** The JSON the webhook channel POSTs. */
export interface WebhookPayload {
  /** `firing` or `resolved`. */
  status: AlertStateStatus;
  /** Whether this is a reminder of an alert already sent. */
  repeat: boolean;
  /** The KPI. */
  kpi: { name: string; label: string; unit: string | null };
  /** The value, or null. */
  value: number | null;
  /** The period: label and `[start, end)` ISO days. */
  period: { label: string; start: string; end: string };
  /** The rule's severity. */
  severity: Severity;
  /** The rule's condition. */
  condition: string;
  /** The rule id within the KPI. */
  rule: string;
  /** The rendered message. */
  message: string;
  /** The comparisons, as in `KPIResult`. */
  comparisons: Partial<Record<ComparisonCode, ComparisonResult>>;
  /**
   * The segments that explain the change (when the KPI has dimensions):
   * `{ segment, contribution, contributionPct, rateEffect?, mixEffect? }`.
   */
  drivers?: Driver[];
  /** The comparison the drivers explain, e.g. `MoM`. */
  driversCompare?: ComparisonCode;
  /** Same for a firing notice and its resolve notice. */
  dedupKey: string;
  /** The run that sent it. */
  runId: string;
  /** When the run happened, ISO instant. */
  runAt: string;
}

/**
 * Builds the webhook body of CONTRACT.md for one alert notice: `status`,
 * `kpi` (`name`, `label`, `unit`), `value`, `period` (`label`, `start`,
 * `end`), `severity`, `condition`, `message` and `comparisons`, plus
 * `repeat`, `rule`, `dedupKey`, `runId` and `runAt`.
 *
 * @param message The alert notice.
 * @returns The body; POST it as `JSON.stringify(body)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const body = buildWebhookPayload({
 *   status: "firing", repeat: false,
 *   kpi: { name: "revenue", label: "Revenue", unit: "USD" }, value: 86250,
 *   period: { label: "2024-11", start: "2024-11-01", end: "2024-12-01" },
 *   severity: "critical", condition: "< 100000", rule: "critical:< 100000",
 *   message: "Revenue dropped", comparisons: {}, dedupKey: "k",
 *   runId: "r1", runAt: "2024-12-01T09:00:00Z",
 * });
 * assert.equal(body.status, "firing");
 * assert.deepEqual(body.kpi, { name: "revenue", label: "Revenue", unit: "USD" });
 * ```
 */
export function buildWebhookPayload(message: AlertMessage): WebhookPayload {
  const body: WebhookPayload = {
    status: message.status,
    repeat: message.repeat,
    kpi: { ...message.kpi },
    value: message.value,
    period: { ...message.period },
    severity: message.severity,
    condition: message.condition,
    rule: message.rule,
    message: message.message,
    comparisons: message.comparisons,
    dedupKey: message.dedupKey,
    runId: message.runId,
    runAt: message.runAt,
  };
  if (message.drivers) {
    body.drivers = message.drivers.drivers;
    body.driversCompare = message.drivers.compare;
  }
  return body;
}
