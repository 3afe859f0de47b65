/**
 * The webhook channel's JSON body for one alert notice.
 *
 * @module
 */

import type { AlertMessage } from "../../../ports.ts";
import type { ComparisonCode } from "../../../types.ts";
import type { Driver } from "../../../segments/types.ts";

/**
 * The JSON the webhook channel POSTs: these fields of the alert notice, with
 * the meaning they have there. Named one by one so that the wire format
 * stays as it is when the notice grows.
 */
export type WebhookPayload =
  & Pick<
    AlertMessage,
    | "status"
    | "repeat"
    | "kpi"
    | "value"
    | "period"
    | "severity"
    | "condition"
    | "rule"
    | "message"
    | "comparisons"
    | "dedupKey"
    | "runId"
    | "runAt"
  >
  & {
    /**
     * The segments that explain the change (when the KPI has dimensions):
     * `{ segment, contribution, contributionPct, rateEffect?, mixEffect? }`.
     */
    drivers?: Driver[];
    /** The comparison the drivers explain, e.g. `MoM`. */
    driversCompare?: ComparisonCode;
  };

/**
 * Builds the webhook body for one alert notice: `status`,
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
