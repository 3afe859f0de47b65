/**
 * The text of an alert: a rule's own message template filled in with the
 * result, or a sensible default, with numbers formatted for people.
 *
 * @module
 */

import { describeDrivers } from "../segments/describe_drivers.ts";
import type {
  AlertRule,
  ComparisonCode,
  KPIResult,
  TriggeredAlert,
} from "../types.ts";
import { COMPARISON_CODES } from "../types.ts";
import {
  changeArrow,
  formatNumber,
  formatPercentChange,
  formatSigned,
  formatValue,
} from "../format/format_number.ts";
import { formatDayRange } from "../format/format_day_range.ts";

/** Options of {@linkcode renderAlertMessage}. */
export interface RenderAlertMessageOptions {
  /**
   * The period as it was asked for, e.g. `last_month` or `2024-11`, shown
   * for `{{ period }}`.
   * @default the dates, e.g. `2024-11-01 to 2024-11-30`
   */
  periodLabel?: string;
  /**
   * Render the notice that the rule no longer holds. A rule's own template
   * speaks of the problem, so a resolved notice always uses the default text.
   * @default false
   */
  resolved?: boolean;
}

/**
 * The placeholders a message template may use, each written `{{ name }}`
 * (blanks inside the braces are optional). For each comparison code `C`
 * (`DoD`, `WoW`, `MoM`, `QoQ`, `YoY`) there are also `{{ C }}` (signed
 * percent change, `+12.5%`), `{{ C.pct }}` (the same), `{{ C.change }}`
 * (signed absolute change, `+1,000`), `{{ C.previous }}` (the earlier value)
 * and `{{ C.arrow }}` (`▲`, `▼` or `▬`); `n/a` when the KPI has no such
 * comparison or no earlier value. `{{ expected }}`, `{{ lower }}`,
 * `{{ upper }}` and `{{ score }}` show an anomaly baseline; `{{ target }}`,
 * `{{ attainment }}` (`93.3%`) and `{{ projected }}` a target's status.
 */
export const ALERT_TEMPLATE_VARIABLES: readonly string[] = [
  "name",
  "label",
  "value",
  "raw_value",
  "unit",
  "period",
  "period_start",
  "period_end",
  "period_range",
  "severity",
  "condition",
  "expected",
  "lower",
  "upper",
  "score",
  "target",
  "attainment",
  "projected",
  "drivers",
];

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_]+)?)\s*\}\}/g;

/**
 * Renders the message of an alert rule for a result. When the rule has a
 * `message`, its `{{ placeholders }}` (see
 * {@linkcode ALERT_TEMPLATE_VARIABLES}) are filled in and anything unknown
 * is left as written; otherwise a default sentence names the KPI, its value
 * and unit, the period, the condition and the comparisons. Numbers get
 * thousands separators (`1,234,567.89`), changes a sign (`+12.5%`).
 *
 * @param rule The alert rule (its `message`, `condition` and `severity`).
 * @param result The KPI result the rule was evaluated on.
 * @param options The period label and whether to render a resolved notice.
 * @returns The message text.
 *
 * @example A template and the default message
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const result = {
 *   name: "revenue", label: "Revenue", unit: "USD", value: 86250.5,
 *   periodStart: "2024-11-01", periodEnd: "2024-12-01",
 *   comparisons: { MoM: { previousValue: 100000, change: -13749.5,
 *     changePct: -13.7495, periodStart: "2024-10-01",
 *     periodEnd: "2024-11-01", favorable: false } },
 *   momChangePct: -13.7495, yoyChangePct: null, alertStatus: "critical" as const,
 *   alertsTriggered: [], queryDurationMs: 2, error: null, note: null,
 * };
 * const rule = { condition: "MoM < -10%", severity: "critical" as const,
 *   message: "{{ label }} fell {{ MoM }} to {{ value }} {{ unit }} in {{ period }}" };
 * assert.equal(
 *   renderAlertMessage(rule, result, { periodLabel: "2024-11" }),
 *   "Revenue fell -13.7% to 86,250.5 USD in 2024-11",
 * );
 * assert.equal(
 *   renderAlertMessage({ condition: "< 100000", severity: "warning" }, result),
 *   'Revenue is 86,250.5 USD for 2024-11-01 to 2024-11-30: "< 100000" holds (MoM -13.7%)',
 * );
 * ```
 */
export function renderAlertMessage(
  rule: AlertRule,
  result: KPIResult,
  options: RenderAlertMessageOptions = {},
): string {
  const resolved = options.resolved ?? false;
  if (!resolved && typeof rule.message === "string" && rule.message !== "") {
    return fillTemplate(rule.message, rule, result, options.periodLabel);
  }
  return defaultMessage(rule, result, options.periodLabel, resolved);
}

/**
 * The triggered alert of a rule that holds, as a result carries it: the
 * rule's condition and severity and the firing text of
 * {@linkcode renderAlertMessage}, the one place notices are worded.
 *
 * @param rule The alert rule that holds.
 * @param result The KPI result it holds on.
 * @param periodLabel The period as it was asked for, e.g. `2024-11`.
 * @returns The triggered alert.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const result = {
 *   name: "revenue", label: "Revenue", unit: "USD", value: 86250,
 *   periodStart: "2024-11-01", periodEnd: "2024-12-01", comparisons: {},
 *   momChangePct: null, yoyChangePct: null, alertStatus: "ok" as const,
 *   alertsTriggered: [], queryDurationMs: 1, error: null, note: null,
 * };
 * const alert = firingAlert({ condition: "< 100000", severity: "critical" }, result, "2024-11");
 * assert.equal(alert.message, 'Revenue is 86,250 USD for 2024-11: "< 100000" holds');
 * ```
 */
export function firingAlert(
  rule: AlertRule,
  result: KPIResult,
  periodLabel: string,
): TriggeredAlert {
  return {
    condition: rule.condition,
    severity: rule.severity,
    message: renderAlertMessage(rule, result, { periodLabel }),
  };
}

function periodText(
  result: KPIResult,
  periodLabel: string | undefined,
): string {
  return periodLabel ?? formatDayRange(result.periodStart, result.periodEnd);
}

function defaultMessage(
  rule: AlertRule,
  result: KPIResult,
  periodLabel: string | undefined,
  resolved: boolean,
): string {
  let period = periodText(result, periodLabel);
  if (periodLabel !== undefined && !/^\d/.test(periodLabel)) {
    period += ` (${formatDayRange(result.periodStart, result.periodEnd)})`;
  }
  const condition = JSON.stringify(rule.condition);
  const head = resolved ? "Resolved: " : "";
  const value = result.value === null && result.error
    ? `could not be computed for ${period} (${result.error})`
    : `is ${
      formatValue(result.value, result.unit, { missing: "n/a" })
    } for ${period}`;
  const verdict = resolved ? "no longer holds" : "holds";
  const changes = COMPARISON_CODES
    .filter((code) => result.comparisons[code] !== undefined)
    .map((code) =>
      `${code} ${formatPercentChange(result.comparisons[code]?.changePct)}`
    );
  const tail = changes.length > 0 ? ` (${changes.join(", ")})` : "";
  const drivers = !resolved && result.drivers &&
      result.drivers.drivers.length > 0
    ? `; ${result.drivers.compare} ${formatSigned(result.drivers.change)}${
      result.unit ? ` ${result.unit}` : ""
    }: ${describeDrivers(result.drivers.drivers)}`
    : "";
  return `${head}${result.label} ${value}: ${condition} ${verdict}${tail}${drivers}`;
}

function fillTemplate(
  template: string,
  rule: AlertRule,
  result: KPIResult,
  periodLabel: string | undefined,
): string {
  return template.replace(PLACEHOLDER, (whole, key: string) => {
    const value = lookup(key, rule, result, periodLabel);
    return value ?? whole;
  });
}

function lookup(
  key: string,
  rule: AlertRule,
  result: KPIResult,
  periodLabel: string | undefined,
): string | undefined {
  const [head, field] = key.split(".") as [string, string | undefined];
  if ((COMPARISON_CODES as readonly string[]).includes(head)) {
    const comparison = result.comparisons[head as ComparisonCode];
    switch (field ?? "pct") {
      case "pct":
        return formatPercentChange(comparison?.changePct);
      case "change":
        return formatSigned(comparison?.change);
      case "previous":
        return formatNumber(comparison?.previousValue);
      case "arrow":
        return changeArrow(comparison?.change);
      default:
        return undefined;
    }
  }
  if (field !== undefined) return undefined;
  switch (head) {
    case "name":
      return result.name;
    case "label":
      return result.label;
    case "value":
      return formatNumber(result.value);
    case "raw_value":
      return result.value === null ? "n/a" : String(result.value);
    case "unit":
      return result.unit ?? "";
    case "period":
      return periodText(result, periodLabel);
    case "period_start":
      return result.periodStart;
    case "period_end":
      return result.periodEnd;
    case "period_range":
      return formatDayRange(result.periodStart, result.periodEnd);
    case "severity":
      return rule.severity;
    case "condition":
      return rule.condition;
    case "expected":
    case "lower":
    case "upper":
      return formatNumber(result.anomaly?.[head] ?? null);
    case "score":
      return result.anomaly?.score == null
        ? "n/a"
        : formatSigned(result.anomaly.score);
    case "target":
      return formatNumber(result.target ?? null);
    case "projected":
      return formatNumber(result.projected ?? null);
    case "attainment":
      return result.attainment == null
        ? "n/a"
        : `${formatNumber(Math.round(result.attainment * 1000) / 10)}%`;
    case "drivers":
      return result.drivers && result.drivers.drivers.length > 0
        ? describeDrivers(result.drivers.drivers)
        : "n/a";
    default:
      return undefined;
  }
}
