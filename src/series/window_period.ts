/**
 * Rolling windows: the trailing range a windowed KPI is computed over for
 * a period (`28d` ending where the period ends, or month, quarter or year
 * to date).
 *
 * @module
 */

import type { Period, RollingWindow } from "../types.ts";

const DAYS = /^([1-9]\d{0,3})d$/;

/**
 * The window a KPI with `window` is computed over for a period: it ends
 * where the period ends. `Nd` is the N days before that end; `mtd`, `qtd`
 * and `ytd` start on the first day of the month, quarter or year of the
 * period's last day.
 *
 * @param period The period (a bucket of a series, or a single period).
 * @param window The KPI's window.
 * @returns The window as a period, labelled `<label> (<window>)`.
 * @throws {RangeError} For an unknown window.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const day = { label: "2024-03-05", start: "2024-03-05", end: "2024-03-06", timezone: "UTC" };
 * assert.equal(windowPeriod(day, "28d").start, "2024-02-07");
 * assert.equal(windowPeriod(day, "qtd").start, "2024-01-01");
 * assert.equal(windowPeriod(day, "mtd").end, "2024-03-06");
 * ```
 */
export function windowPeriod(period: Period, window: RollingWindow): Period {
  const end = Temporal.PlainDate.from(period.end);
  const last = end.subtract({ days: 1 });
  let start: Temporal.PlainDate;
  const days = DAYS.exec(window);
  if (days) start = end.subtract({ days: Number(days[1]) });
  else if (window === "mtd") start = last.with({ day: 1 });
  else if (window === "qtd") {
    start = last.with({ month: last.month - ((last.month - 1) % 3), day: 1 });
  } else if (window === "ytd") start = last.with({ month: 1, day: 1 });
  else {
    throw new RangeError(
      `Invalid window "${
        String(window)
      }": expected a number of days such as "7d" or "28d", or mtd, qtd, ytd`,
    );
  }
  return {
    label: `${period.label} (${window})`,
    start: start.toString(),
    end: period.end,
    timezone: period.timezone,
  };
}
