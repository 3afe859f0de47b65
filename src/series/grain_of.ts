/**
 * Names the grain of a period: whether it is exactly one day, week, month,
 * quarter or year, or something else (`custom`). History rows carry it, so
 * that a monthly trend reads only months.
 *
 * @module
 */

import type { HistoryGrain, Period } from "../types.ts";
import { addGrains, bucketStart, GRAINS } from "./series_buckets.ts";

/**
 * The grain of a period: `day`, `week` (seven days from `weekStart`, or an
 * ISO week), `month`, `quarter` or `year` when the period is exactly one
 * such bucket, else `custom` (a range, `last_7_days`, a month to date).
 *
 * @param period The period's days.
 * @param weekStart First day of the week, 1 = Monday. @default 1
 * @returns The grain.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(grainOf({ start: "2024-07-01", end: "2024-10-01" }), "quarter");
 * assert.equal(grainOf({ start: "2024-11-01", end: "2024-11-16" }), "custom");
 * assert.equal(grainOf({ start: "2024-11-03", end: "2024-11-10" }, 7), "week");
 * ```
 */
export function grainOf(
  period: Pick<Period, "start" | "end">,
  weekStart = 1,
): HistoryGrain {
  let start: Temporal.PlainDate;
  try {
    start = Temporal.PlainDate.from(period.start);
  } catch {
    return "custom";
  }
  for (const grain of GRAINS) {
    if (
      bucketStart(start, grain, weekStart).equals(start) &&
      addGrains(start, grain, 1).toString() === period.end
    ) {
      return grain;
    }
  }
  // A Monday-to-Sunday (ISO) week is a week whatever the first day is.
  if (
    start.dayOfWeek === 1 && start.add({ days: 7 }).toString() === period.end
  ) return "week";
  return "custom";
}
