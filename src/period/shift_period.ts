/**
 * Shifts a period back for a period-over-period comparison (`DoD`, `WoW`,
 * `MoM`, `QoQ`, `YoY`).
 *
 * @module
 */

import type { ComparisonCode, Period } from "../types.ts";
import { canonicalTimeZone, periodDay } from "./_dates.ts";

/** How far back each comparison code shifts a period, as a calendar amount. */
export const COMPARISON_SHIFTS: Readonly<
  Record<
    ComparisonCode,
    Readonly<{ days?: number; months?: number; years?: number }>
  >
> = {
  DoD: { days: 1 },
  WoW: { days: 7 },
  MoM: { months: 1 },
  QoQ: { months: 3 },
  YoY: { years: 1 },
};

/**
 * Shifts a whole period back by one day (`DoD`), week (`WoW`, 7 days), month
 * (`MoM`), quarter (`QoQ`, 3 months) or year (`YoY`).
 *
 * Both `start` and `end` move back by that calendar amount. A shifted day
 * that does not exist clamps to the last day of its month (2024-03-31 MoM is
 * 2024-02-29; 2024-02-29 YoY is 2023-02-28). If clamping leaves the shifted
 * end not after the shifted start, the end becomes the start plus one day.
 * So a month-to-date period compares with the same days of the month before,
 * and a whole month with the whole month before. The label gets the code
 * appended: `2024-11 (MoM)`; the time zone is kept.
 *
 * @param period The period to shift.
 * @param code The comparison code.
 * @returns The earlier period.
 * @throws {RangeError} For an unknown code, a day that is not a valid
 * `YYYY-MM-DD`, an end not after the start, or an invalid time zone.
 * @throws {TypeError} For a period whose fields are not strings.
 *
 * @example Month over month and year over year
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const nov = { label: "2024-11", start: "2024-11-01", end: "2024-12-01", timezone: "UTC" };
 * assert.deepEqual(shiftPeriod(nov, "MoM"), {
 *   label: "2024-11 (MoM)",
 *   start: "2024-10-01",
 *   end: "2024-11-01",
 *   timezone: "UTC",
 * });
 *
 * const leapDay = { label: "2024-02-29", start: "2024-02-29", end: "2024-03-01", timezone: "UTC" };
 * const before = shiftPeriod(leapDay, "YoY");
 * assert.equal(before.start, "2023-02-28");
 * assert.equal(before.end, "2023-03-01");
 * ```
 */
export function shiftPeriod(period: Period, code: ComparisonCode): Period {
  if (typeof period !== "object" || period === null) {
    throw new TypeError(
      `Cannot shift period ${
        JSON.stringify(String(period))
      }: expected an object with label, start, end and timezone`,
    );
  }
  const shift = Object.hasOwn(COMPARISON_SHIFTS, code)
    ? COMPARISON_SHIFTS[code]
    : undefined;
  if (shift === undefined) {
    throw new RangeError(
      `Unknown comparison "${String(code)}": expected one of ${
        Object.keys(COMPARISON_SHIFTS).join(", ")
      }`,
    );
  }
  const start = periodDay(period.start, "start");
  const end = periodDay(period.end, "end");
  if (Temporal.PlainDate.compare(start, end) >= 0) {
    throw new RangeError(
      `Invalid period "${period.label}": end ${period.end} is not after start ${period.start}`,
    );
  }
  const timezone = canonicalTimeZone(period.timezone);
  const newStart = start.subtract(shift, { overflow: "constrain" });
  let newEnd = end.subtract(shift, { overflow: "constrain" });
  if (Temporal.PlainDate.compare(newEnd, newStart) <= 0) {
    newEnd = newStart.add({ days: 1 });
  }
  return {
    label: `${period.label} (${code})`,
    start: newStart.toString(),
    end: newEnd.toString(),
    timezone,
  };
}
