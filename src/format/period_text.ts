/**
 * Names a date range the way people say it: `2024`, `Jan–Mar 2024`,
 * `Oct 2024`, `Nov 4, 2024`, `Nov 1 – 15, 2024`. The dashboard labels
 * comparisons with it ("vs Jan–Mar 2024" rather than a bare "QoQ").
 *
 * @module
 */

const MONTHS = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
];

/**
 * Names the half-open range `[start, end)` of whole days.
 *
 * @param start The first day, `YYYY-MM-DD`.
 * @param end The first day after the range, `YYYY-MM-DD`.
 * @returns A short English name of the range.
 * @throws {RangeError} When a date is not `YYYY-MM-DD`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(periodText("2024-01-01", "2024-04-01"), "Jan–Mar 2024");
 * assert.equal(periodText("2024-10-01", "2024-11-01"), "Oct 2024");
 * assert.equal(periodText("2023-01-01", "2024-01-01"), "2023");
 * assert.equal(periodText("2024-11-04", "2024-11-05"), "Nov 4, 2024");
 * assert.equal(periodText("2024-11-01", "2024-11-16"), "Nov 1 – 15, 2024");
 * assert.equal(periodText("2024-12-28", "2025-01-04"), "Dec 28, 2024 – Jan 3, 2025");
 * ```
 */
export function periodText(start: string, end: string): string {
  const first = Temporal.PlainDate.from(start);
  const next = Temporal.PlainDate.from(end);
  const last = next.subtract({ days: 1 });
  const month = (d: Temporal.PlainDate): string => MONTHS[d.month - 1] ?? "";
  if (first.day === 1 && Temporal.PlainDate.compare(last, first) >= 0) {
    const months = (next.year - first.year) * 12 + next.month - first.month;
    if (next.day === 1) {
      if (months === 12 && first.month === 1) return `${first.year}`;
      if (months === 1) return `${month(first)} ${first.year}`;
      if (months > 1 && months < 12 && first.year === last.year) {
        return `${month(first)}–${month(last)} ${first.year}`;
      }
    }
  }
  if (first.equals(last)) return `${month(first)} ${first.day}, ${first.year}`;
  if (first.year !== last.year) {
    return `${month(first)} ${first.day}, ${first.year} – ${
      month(last)
    } ${last.day}, ${last.year}`;
  }
  if (first.month !== last.month) {
    return `${month(first)} ${first.day} – ${
      month(last)
    } ${last.day}, ${last.year}`;
  }
  return `${month(first)} ${first.day} – ${last.day}, ${last.year}`;
}
