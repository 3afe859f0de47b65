/**
 * A range of whole days for people, as alert messages and channel payloads
 * write it.
 *
 * @module
 */

/**
 * Writes a half-open `[start, end)` range of days by its first and last
 * day: `2024-11-01 to 2024-11-30`, or the one day when it is one day.
 *
 * @param start The first day, `YYYY-MM-DD`.
 * @param end The first day after the range, `YYYY-MM-DD`.
 * @returns The text; `end` is shown as given when it is not a date.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatDayRange("2024-11-01", "2024-12-01"), "2024-11-01 to 2024-11-30");
 * assert.equal(formatDayRange("2024-11-05", "2024-11-06"), "2024-11-05");
 * ```
 */
export function formatDayRange(start: string, end: string): string {
  const last = lastDay(end);
  return last === start ? start : `${start} to ${last}`;
}

function lastDay(end: string): string {
  try {
    return Temporal.PlainDate.from(end).subtract({ days: 1 }).toString();
  } catch {
    return end;
  }
}
