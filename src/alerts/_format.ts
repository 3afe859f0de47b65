/**
 * Alert wording shared by the alert message, the payload builders and the
 * dry-run description: values with units, comparisons, date ranges. The
 * numbers themselves come from the one formatter in `format/`.
 */

import type { ComparisonResult } from "../types.ts";
import {
  formatNumber,
  formatPercentChange,
  formatSigned,
  withUnit,
} from "../format/format_number.ts";
import { formatValue } from "../format/format_value.ts";

export { formatNumber, formatPercentChange, formatSigned, withUnit };

/** A value with its unit as alerts write it: `6,000 USD`, `12.5%`, `n/a`. */
export function formatAlertValue(
  value: number | null | undefined,
  unit: string | null | undefined,
): string {
  return formatValue(value, unit, { missing: "n/a" });
}

/** `▲` for a rise, `▼` for a fall, `▬` for no change, `·` when unknown. */
export function changeArrow(change: number | null | undefined): string {
  if (change === null || change === undefined || Number.isNaN(change)) {
    return "·";
  }
  return change > 0 ? "▲" : change < 0 ? "▼" : "▬";
}

/**
 * One comparison for people: `▲ +20.0% (+1,000 USD vs 5,000 USD)`, or
 * `n/a` when there was no earlier value.
 */
export function describeComparison(
  comparison: ComparisonResult | undefined,
  unit: string | null | undefined,
): string {
  if (!comparison || comparison.previousValue === null) return "n/a";
  const pct = formatPercentChange(comparison.changePct);
  const change = withUnit(formatSigned(comparison.change), unit);
  const previous = formatAlertValue(comparison.previousValue, unit);
  const arrow = changeArrow(comparison.change);
  return pct === "n/a"
    ? `${arrow} ${change} (vs ${previous})`
    : `${arrow} ${pct} (${change} vs ${previous})`;
}

/** The last day of a half-open `[start, end)` range of days. */
export function lastDay(end: string): string {
  try {
    return Temporal.PlainDate.from(end).subtract({ days: 1 }).toString();
  } catch {
    return end;
  }
}

/** `2024-11-01 to 2024-11-30`, or one day when the range is one day. */
export function formatRange(start: string, end: string): string {
  const last = lastDay(end);
  return last === start ? start : `${start} to ${last}`;
}

/** A severity in capitals: `CRITICAL`. */
export function loud(text: string): string {
  return text.toUpperCase();
}
