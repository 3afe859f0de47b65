import {
  formatNumber,
  formatPercentChange,
  withUnit,
} from "./format_number.ts";

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
