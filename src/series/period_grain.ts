/**
 * Which grain a period is a whole bucket of, so that a single period can be
 * placed in a series: the day, week, month, quarter or year it covers, or
 * `custom` for anything else (a range, `last_7_days`, a period to date).
 *
 * @module
 */

import type { Period } from "../types.ts";
import {
  addGrains,
  bucketStart,
  type Grain,
  GRAINS,
} from "./series_buckets.ts";

/** Options of {@linkcode periodGrain}. */
export interface PeriodGrainOptions {
  /** First day of the week, 1 = Monday ... 7 = Sunday. @default 1 */
  weekStart?: number;
}

/**
 * The grain whose bucket is exactly `[start, end)`, or `custom`.
 *
 * @param period A resolved period.
 * @param options The first day of the week.
 * @returns `day`, `week`, `month`, `quarter`, `year` or `custom`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(periodGrain({ start: "2024-07-01", end: "2024-10-01" }), "quarter");
 * assert.equal(periodGrain({ start: "2024-07-01", end: "2024-07-08" }), "week");
 * assert.equal(periodGrain({ start: "2024-07-02", end: "2024-07-09" }), "custom");
 * ```
 */
export function periodGrain(
  period: Pick<Period, "start" | "end">,
  options: PeriodGrainOptions = {},
): Grain | "custom" {
  const start = Temporal.PlainDate.from(period.start);
  const end = Temporal.PlainDate.from(period.end);
  const weekStart = options.weekStart ?? 1;
  for (const grain of GRAINS) {
    if (
      Temporal.PlainDate.compare(
          bucketStart(start, grain, weekStart),
          start,
        ) ===
        0 &&
      Temporal.PlainDate.compare(addGrains(start, grain, 1), end) === 0
    ) {
      return grain;
    }
  }
  return "custom";
}
