/**
 * Number formatting for people, shared by the alert message, the payload
 * builders and the dry-run description. Deterministic: always `en-US`
 * separators, whatever the machine's locale.
 */

import type { ComparisonResult } from "../types.ts";

const LARGE = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const SMALL = new Intl.NumberFormat("en-US", {
  maximumSignificantDigits: 3,
});
const PERCENT = new Intl.NumberFormat("en-US", {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});

/** `1234567.891` → `1,234,567.89`; `0.012345` → `0.0123`; null → `n/a`. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return "n/a";
  }
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "-∞";
  const abs = Math.abs(value);
  const text = abs !== 0 && abs < 1 ? SMALL.format(abs) : LARGE.format(abs);
  return value < 0 && text !== "0" ? `-${text}` : text;
}

/** Appends a unit: `%` sticks to the number, anything else after a space. */
export function withUnit(
  text: string,
  unit: string | null | undefined,
): string {
  if (!unit || text === "n/a") return text;
  return unit === "%" ? `${text}%` : `${text} ${unit}`;
}

/** A value with its unit: `6,000 USD`, `12.5%`, `n/a`. */
export function formatValue(
  value: number | null | undefined,
  unit: string | null | undefined,
): string {
  return withUnit(formatNumber(value), unit);
}

/** A signed number: `+1,000`, `-250.5`, `0`, `n/a`. */
export function formatSigned(value: number | null | undefined): string {
  const text = formatNumber(value);
  if (text === "n/a" || text === "0" || text.startsWith("-")) return text;
  return `+${text}`;
}

/** A signed percent change with one decimal: `+12.5%`, `-3.0%`, `0.0%`, `n/a`. */
export function formatPercentChange(pct: number | null | undefined): string {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return "n/a";
  const text = PERCENT.format(Math.abs(pct));
  if (text === "0.0") return "0.0%";
  return `${pct < 0 ? "-" : "+"}${text}%`;
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
  const previous = formatValue(comparison.previousValue, unit);
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
