/**
 * The one number formatter for people, shared by reports (the CLI's table,
 * Markdown), alert messages, channel payloads, dry runs and the dashboard's
 * API: plain numbers, signed changes, percent changes, values with their
 * unit and comparisons. Deterministic: `en-US` separators whatever the
 * machine's locale.
 *
 * @module
 */

import type { ComparisonResult } from "../types.ts";

const LARGE = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const SMALL = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 4 });
const PERCENT = new Intl.NumberFormat("en-US", {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});

/**
 * Formats a number: thousands separators and at most two decimals, or four
 * significant digits for a fraction below 1; `∞` for an infinite value.
 *
 * @param value The number, or null or undefined when missing.
 * @returns The text; `n/a` when the value is missing or not a number.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatNumber(1234567.891), "1,234,567.89");
 * assert.equal(formatNumber(0.04567), "0.04567");
 * assert.equal(formatNumber(-0.001), "-0.001");
 * assert.equal(formatNumber(null), "n/a");
 * ```
 */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return "n/a";
  }
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "-∞";
  const abs = Math.abs(value);
  const text = abs !== 0 && abs < 1 ? SMALL.format(abs) : LARGE.format(abs);
  return value < 0 && text !== "0" ? `-${text}` : text;
}

/**
 * Formats a number with its sign: `+1,000`, `-250.5`, `0`.
 *
 * @param value The number, or null or undefined when missing.
 * @returns The text; `n/a` when missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatSigned(1000), "+1,000");
 * assert.equal(formatSigned(0), "0");
 * ```
 */
export function formatSigned(value: number | null | undefined): string {
  const text = formatNumber(value);
  if (text === "n/a" || text === "0" || text.startsWith("-")) return text;
  return `+${text}`;
}

/**
 * Formats a percent change with its sign and one decimal: `+12.5%`,
 * `-3.0%`, `0.0%`.
 *
 * @param pct The change in percent, or null or undefined when missing.
 * @returns The text; `n/a` when missing or infinite.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatPercentChange(20), "+20.0%");
 * assert.equal(formatPercentChange(-3.25), "-3.3%");
 * assert.equal(formatPercentChange(null), "n/a");
 * ```
 */
export function formatPercentChange(pct: number | null | undefined): string {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return "n/a";
  const text = PERCENT.format(Math.abs(pct));
  if (text === "0.0") return "0.0%";
  return `${pct < 0 ? "-" : "+"}${text}%`;
}

/**
 * Appends a unit: `%` sticks to the number, anything else follows after a
 * space.
 *
 * @param text A formatted number.
 * @param unit The unit, or null or undefined for none.
 * @returns The text with its unit; `n/a` stays as it is.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(withUnit("12.5", "%"), "12.5%");
 * assert.equal(withUnit("6,000", "USD"), "6,000 USD");
 * ```
 */
export function withUnit(
  text: string,
  unit: string | null | undefined,
): string {
  if (!unit || text === "n/a") return text;
  return unit === "%" ? `${text}%` : `${text} ${unit}`;
}

/** Options of {@linkcode formatValue}. */
export interface FormatValueOptions {
  /** The text for a missing value. @default "—" */
  missing?: string;
}

/**
 * Formats a KPI value for people: thousands separators, at most two decimals
 * for large numbers and four significant ones for small fractions, then the
 * unit (`%` sticks to the number, other units follow after a space).
 *
 * @param value The value, or null.
 * @param unit The unit, or null.
 * @param options What to write for a missing value.
 * @returns The text; `—` (or `options.missing`) for null.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatValue(1234567.891, "USD"), "1,234,567.89 USD");
 * assert.equal(formatValue(0.04567, null), "0.04567");
 * assert.equal(formatValue(12.5, "%"), "12.5%");
 * assert.equal(formatValue(null, "USD"), "—");
 * ```
 */
export function formatValue(
  value: number | null | undefined,
  unit: string | null | undefined,
  options: FormatValueOptions = {},
): string {
  if (value === null || value === undefined) return options.missing ?? "—";
  return withUnit(formatNumber(value), unit);
}

/**
 * Formats a percent change with its sign and an arrow: `▲ +20.0%`.
 *
 * @param changePct The change in percent, or null.
 * @returns The text; `—` for null.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatChange(20), "▲ +20.0%");
 * assert.equal(formatChange(-3.25), "▼ -3.3%");
 * assert.equal(formatChange(0), "= 0.0%");
 * ```
 */
export function formatChange(changePct: number | null): string {
  if (changePct === null) return "—";
  const arrow = changePct > 0 ? "▲" : changePct < 0 ? "▼" : "=";
  return `${arrow} ${formatPercentChange(changePct)}`;
}

/**
 * The arrow of a change as alerts write it: `▲` for a rise, `▼` for a fall,
 * `▬` for no change, `·` when unknown. (Reports write `=` for no change:
 * see {@linkcode formatChange}.)
 *
 * @param change The change, or null or undefined when unknown.
 * @returns One character.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(changeArrow(-5), "▼");
 * assert.equal(changeArrow(0), "▬");
 * assert.equal(changeArrow(null), "·");
 * ```
 */
export function changeArrow(change: number | null | undefined): string {
  if (change === null || change === undefined || Number.isNaN(change)) {
    return "·";
  }
  return change > 0 ? "▲" : change < 0 ? "▼" : "▬";
}

/**
 * One comparison for people: `▲ +20.0% (+1,000 USD vs 5,000 USD)`, or
 * `n/a` when there was no earlier value.
 *
 * @param comparison The comparison, or undefined when the KPI has none.
 * @param unit The KPI's unit, or null or undefined for none.
 * @returns The text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const mom = { previousValue: 5000, change: 1000, changePct: 20,
 *   periodStart: "2024-10-01", periodEnd: "2024-11-01", favorable: true };
 * assert.equal(describeComparison(mom, "USD"), "▲ +20.0% (+1,000 USD vs 5,000 USD)");
 * assert.equal(describeComparison(undefined, "USD"), "n/a");
 * ```
 */
export function describeComparison(
  comparison: ComparisonResult | undefined,
  unit: string | null | undefined,
): string {
  if (!comparison || comparison.previousValue === null) return "n/a";
  const pct = formatPercentChange(comparison.changePct);
  const change = withUnit(formatSigned(comparison.change), unit);
  const previous = formatValue(comparison.previousValue, unit, {
    missing: "n/a",
  });
  const arrow = changeArrow(comparison.change);
  return pct === "n/a"
    ? `${arrow} ${change} (vs ${previous})`
    : `${arrow} ${pct} (${change} vs ${previous})`;
}
