/**
 * The subject, plain-text and HTML parts of the alert email.
 *
 * @module
 */

import { describeDrivers } from "../../../segments/describe_drivers.ts";
import type { AlertMessage } from "../../../ports.ts";
import { COMPARISON_CODES } from "../../../types.ts";
import {
  describeComparison,
  formatValue,
} from "../../../format/format_number.ts";
import { formatDayRange } from "../../../format/format_day_range.ts";

/** The parts of one alert email. */
export interface EmailContent {
  /** `KPI alert [CRITICAL]: Revenue`, or `[RESOLVED]`. */
  subject: string;
  /** The plain-text part. */
  text: string;
  /** The HTML part. */
  html: string;
}

function html(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;")
    .replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * Builds the email for one alert notice. The subject carries the severity
 * (or `RESOLVED`) and the KPI label; both parts give the message, the value
 * with its unit, the period, the severity, the condition and each
 * comparison's change with an arrow.
 *
 * @param message The alert notice.
 * @returns Subject, text and HTML.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const mail = buildEmailContent({
 *   status: "firing", repeat: false,
 *   kpi: { name: "revenue", label: "Revenue", unit: "USD" }, value: 86250,
 *   period: { label: "2024-11", start: "2024-11-01", end: "2024-12-01" },
 *   severity: "critical", condition: "< 100000", rule: "critical:< 100000",
 *   message: "Revenue dropped", comparisons: {}, dedupKey: "k",
 *   runId: "r1", runAt: "2024-12-01T09:00:00Z",
 * });
 * assert.equal(mail.subject, "KPI alert [CRITICAL]: Revenue");
 * assert.match(mail.text, /86,250 USD/);
 * ```
 */
export function buildEmailContent(message: AlertMessage): EmailContent {
  const resolved = message.status === "resolved";
  const tag = resolved ? "RESOLVED" : message.severity.toUpperCase();
  const again = message.repeat && !resolved ? " (still firing)" : "";
  const subject = `KPI alert [${tag}]: ${message.kpi.label}${again}`;
  const range = formatDayRange(message.period.start, message.period.end);
  const period = message.period.label === range
    ? range
    : `${message.period.label} (${range})`;
  const rows: [string, string][] = [
    ["KPI", `${message.kpi.label} (${message.kpi.name})`],
    ["Value", formatValue(message.value, message.kpi.unit, { missing: "n/a" })],
    ["Period", period],
    [
      "Severity",
      resolved ? `${message.severity} (resolved)` : message.severity,
    ],
    ["Condition", message.condition],
  ];
  for (const code of COMPARISON_CODES) {
    const comparison = message.comparisons[code];
    if (comparison) {
      rows.push([code, describeComparison(comparison, message.kpi.unit)]);
    }
  }
  if (message.drivers && message.drivers.drivers.length > 0) {
    rows.push([
      `Drivers (${message.drivers.compare})`,
      describeDrivers(message.drivers.drivers, { max: 5 }),
    ]);
  }
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  const text = [
    message.message,
    "",
    ...rows.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`),
    "",
    `Run ${message.runId} at ${message.runAt}`,
    "",
  ].join("\n");
  const colour = resolved
    ? "#2e7d32"
    : message.severity === "critical"
    ? "#c62828"
    : message.severity === "warning"
    ? "#ef6c00"
    : "#1565c0";
  const body = [
    "<!DOCTYPE html>",
    '<html><body style="font-family:sans-serif">',
    `<h2 style="color:${colour}">${html(message.kpi.label)}: ${html(tag)}</h2>`,
    `<p>${html(message.message)}</p>`,
    '<table cellpadding="4" style="border-collapse:collapse">',
    ...rows.map(([k, v]) =>
      `<tr><th align="left">${html(k)}</th><td>${html(v)}</td></tr>`
    ),
    "</table>",
    `<p style="color:#666;font-size:small">Run ${html(message.runId)} at ${
      html(message.runAt)
    }</p>`,
    "</body></html>",
    "",
  ].join("\n");
  return { subject, text, html: body };
}
