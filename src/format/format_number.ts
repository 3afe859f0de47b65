/**
 * The one number formatter for people, shared by reports (the CLI's table,
 * Markdown), alert messages, channel payloads and dry runs. Deterministic:
 * `en-US` separators whatever the machine's locale.
 *
 * @module
 */

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
