import { cleanDifference, cleanNumber } from "../_numbers.ts";
import type { ComparisonResult, Period, Polarity } from "../types.ts";

/** Options of {@linkcode compare}. */
export interface CompareOptions {
  /** Whether a rise is good news. @default "higher_is_better" */
  polarity?: Polarity;
  /** The earlier period, copied onto the result. @default none (empty dates) */
  previousPeriod?: Pick<Period, "start" | "end">;
}

/**
 * Compares a value with the value of an earlier period.
 *
 * `changePct` is `change / |previousValue| * 100`, and null where the
 * earlier value is 0 or missing. `favorable` says whether the change is good
 * news under the polarity; it is null when either value is missing or
 * nothing changed.
 *
 * @param value The value now, or null.
 * @param previousValue The value in the earlier period, or null.
 * @param options Polarity and the earlier period's dates.
 * @returns The comparison.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const c = compare(6000, 5000, { previousPeriod: { start: "2024-10-01", end: "2024-11-01" } });
 * assert.equal(c.change, 1000);
 * assert.equal(c.changePct, 20);
 * assert.equal(c.favorable, true);
 * assert.equal(compare(4, 5, { polarity: "lower_is_better" }).favorable, true);
 * assert.equal(compare(4, 0).changePct, null);
 * assert.equal(compare(643077.41, 544405.72).change, 98671.69);
 * ```
 */
export function compare(
  value: number | null,
  previousValue: number | null,
  options: CompareOptions = {},
): ComparisonResult {
  const polarity = options.polarity ?? "higher_is_better";
  const change = value === null || previousValue === null
    ? null
    : cleanDifference(value, previousValue);
  const changePct = change === null || previousValue === 0 ||
      previousValue === null
    ? null
    : cleanNumber(change / Math.abs(previousValue) * 100);
  const favorable = change === null || change === 0
    ? null
    : (change > 0) === (polarity === "higher_is_better");
  return {
    previousValue,
    change,
    changePct,
    periodStart: options.previousPeriod?.start ?? "",
    periodEnd: options.previousPeriod?.end ?? "",
    favorable,
  };
}
