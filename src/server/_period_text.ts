/**
 * Names a date range the way people say it: `2024`, `Jan–Mar 2024`,
 * `Oct 2024`, `Nov 4, 2024`, `Nov 1 – 15, 2024`, leaving out the year when
 * it is the one the reader is looking at. The dashboard labels comparisons
 * with it ("vs Jan–Mar" rather than a bare "QoQ").
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

const month = (d: Temporal.PlainDate): string => MONTHS[d.month - 1] ?? "";

/** Options of {@linkcode periodText}. */
export interface PeriodTextOptions {
  /**
   * The year being looked at: a range inside it is named without its year
   * (`Jun`, `Jan–Mar`). @default undefined (the year is always written)
   */
  currentYear?: number;
}

/**
 * Names the half-open range `[start, end)` of whole days.
 *
 * @param start The first day, `YYYY-MM-DD`.
 * @param end The first day after the range, `YYYY-MM-DD`.
 * @param options The year that goes without saying.
 * @returns A short English name of the range.
 * @throws {RangeError} When a date is not `YYYY-MM-DD`.
 */
export function periodText(
  start: string,
  end: string,
  options: PeriodTextOptions = {},
): string {
  const first = Temporal.PlainDate.from(start);
  const last = Temporal.PlainDate.from(end).subtract({ days: 1 });
  const sameYear = first.year === last.year;
  const year = sameYear && first.year === options.currentYear
    ? ""
    : ` ${last.year}`;
  const whole = wholeMonths(first, last);
  if (whole !== null) {
    if (whole === 12 && first.month === 1) return `${first.year}`;
    if (whole === 1) return `${month(first)}${year}`;
    if (whole < 12 && sameYear) {
      return `${month(first)}–${month(last)}${year}`;
    }
  }
  const tail = year === "" ? "" : `,${year}`;
  if (first.equals(last)) return `${month(first)} ${first.day}${tail}`;
  if (!sameYear) {
    return `${month(first)} ${first.day}, ${first.year} – ${
      month(last)
    } ${last.day}, ${last.year}`;
  }
  if (first.month !== last.month) {
    return `${month(first)} ${first.day} – ${month(last)} ${last.day}${tail}`;
  }
  return `${month(first)} ${first.day} – ${last.day}${tail}`;
}

/** How many whole calendar months `[first, last]` spans, or null. */
function wholeMonths(
  first: Temporal.PlainDate,
  last: Temporal.PlainDate,
): number | null {
  const next = last.add({ days: 1 });
  if (first.day !== 1 || next.day !== 1) return null;
  if (Temporal.PlainDate.compare(last, first) < 0) return null;
  return (next.year - first.year) * 12 + next.month - first.month;
}
