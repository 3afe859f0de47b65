/**
 * Turns a period string such as `last_month`, `2024-Q3` or
 * `2024-11-01..2024-11-15` into a half-open range of whole days
 * `[start, end)` in one time zone.
 *
 * @module
 */

import type { Period } from "../types.ts";
import { canonicalTimeZone, parseIsoDay, plainDate } from "./_dates.ts";
import { suggest } from "../config/_suggest.ts";

/** Options of {@linkcode resolvePeriod}. */
export interface ResolvePeriodOptions {
  /**
   * The moment relative periods (`today`, `last_month`, ...) are resolved
   * against: an instant (`Temporal.Instant`, `Temporal.ZonedDateTime`,
   * `Date` or an ISO instant string with `Z` or an offset), or a day
   * (`Temporal.PlainDate` or a `YYYY-MM-DD` string, meaning that day in
   * `timezone`). Required for relative periods; absolute ones ignore it.
   * @default undefined
   */
  now?:
    | Temporal.Instant
    | Temporal.ZonedDateTime
    | Temporal.PlainDate
    | Date
    | string;
  /** IANA time zone the days are cut in. @default "UTC" */
  timezone?: string;
  /**
   * First day of the week for `this_week`, `last_week` and `last_N_weeks`:
   * 1 = Monday ... 7 = Sunday. ISO weeks (`2024-W07`) always start on Monday.
   * @default 1
   */
  weekStart?: number;
}

/**
 * Every accepted period form, with an example where the form has a
 * placeholder. Keywords and the `Q`/`W` letters are case-insensitive.
 */
export const PERIOD_FORMS: readonly string[] = [
  "today",
  "yesterday",
  "this_week",
  "this_month",
  "this_quarter",
  "this_year",
  "last_week",
  "last_month",
  "last_quarter",
  "last_year",
  "last_N_days (e.g. last_7_days)",
  "last_N_weeks (e.g. last_4_weeks)",
  "last_N_months (e.g. last_3_months)",
  "YYYY (e.g. 2024)",
  "YYYY-Qn (e.g. 2024-Q3)",
  "YYYY-MM (e.g. 2024-11)",
  "YYYY-Www (e.g. 2024-W07)",
  "YYYY-MM-DD (e.g. 2024-11-05)",
  "YYYY-MM-DD..YYYY-MM-DD (e.g. 2024-11-01..2024-11-15)",
];

const LAST_N = /^last_(\d+)_(days|weeks|months)$/;
const YEAR = /^(\d{4})$/;
const QUARTER = /^(\d{4})-q(\d+)$/;
const MONTH = /^(\d{4})-(\d{2})$/;
const ISO_WEEK = /^(\d{4})-w(\d{2})$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const RANGE = /^(\S+?)\s*\.\.\s*(\S+)$/;

type Range = [Temporal.PlainDate, Temporal.PlainDate];

/** What a matched form needs to become a range of days. */
type Resolver = (today: () => Temporal.PlainDate, weekStart: number) => Range;

/**
 * Resolves a period string to a half-open range of whole days `[start, end)`
 * in `options.timezone`.
 *
 * Relative forms count from "today", the calendar date of `options.now` in
 * the time zone. The `this_*` forms run to date, through today (their `end`
 * is tomorrow). `last_N_days` is the N whole days before today, not
 * including today; `last_N_weeks` and `last_N_months` are the N whole weeks
 * or months before the current one. Absolute forms: `2024`, `2024-Q3`,
 * `2024-11`, `2024-W07` (ISO week, Monday to Sunday), `2024-11-05`, and
 * `2024-11-01..2024-11-15` (both days included).
 *
 * @param text The period string; surrounding spaces are ignored.
 * @param options Now, time zone and first day of the week.
 * @returns The period, labelled with the trimmed text.
 * @throws {RangeError} For an unknown form (the message lists the accepted
 * ones), a date that does not exist, a week 53 in a year without one, a range
 * whose start is after its end, an invalid time zone, `weekStart` or `now`.
 * @throws {TypeError} For a relative form without `options.now`, or a
 * non-string `text`.
 *
 * @example Absolute and relative periods
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(resolvePeriod("2024-Q3"), {
 *   label: "2024-Q3",
 *   start: "2024-07-01",
 *   end: "2024-10-01",
 *   timezone: "UTC",
 * });
 *
 * const p = resolvePeriod("last_month", {
 *   now: "2024-11-15T03:00:00Z",
 *   timezone: "America/Los_Angeles",
 * });
 * assert.equal(p.start, "2024-10-01");
 * assert.equal(p.end, "2024-11-01");
 * ```
 */
export function resolvePeriod(
  text: string,
  options: ResolvePeriodOptions = {},
): Period {
  if (typeof text !== "string") {
    throw new TypeError(
      `Cannot resolve period ${
        JSON.stringify(String(text))
      }: expected a string, one of ${PERIOD_FORMS.join(", ")}`,
    );
  }
  const label = text.trim();
  const timezone = canonicalTimeZone(options.timezone ?? "UTC");
  const weekStart = checkWeekStart(options.weekStart ?? 1);
  const resolver = match(label);
  const today = (): Temporal.PlainDate => {
    if (options.now === undefined) {
      throw new TypeError(
        `Cannot resolve period "${label}": now is required for relative periods (pass options.now)`,
      );
    }
    return todayOf(options.now, timezone);
  };
  let range: Range;
  try {
    range = resolver(today, weekStart);
  } catch (error) {
    if (
      error instanceof RangeError && !error.message.startsWith("Invalid now")
    ) {
      throw new RangeError(
        `Cannot resolve period "${label}": ${lowerFirst(error.message)}`,
      );
    }
    throw error;
  }
  const [start, end] = range;
  if (start.year < 0 || end.year > 9999) {
    throw new RangeError(
      `Cannot resolve period "${label}": it reaches outside the years 0000 to 9999`,
    );
  }
  return { label, start: start.toString(), end: end.toString(), timezone };
}

function match(label: string): Resolver {
  const text = label.toLowerCase();
  const plus1 = (d: Temporal.PlainDate): Temporal.PlainDate =>
    d.add({ days: 1 });
  switch (text) {
    case "today":
      return (t) => [t(), plus1(t())];
    case "yesterday":
      return (t) => [t().subtract({ days: 1 }), t()];
    case "this_week":
      return (t, ws) => [weekStartOf(t(), ws), plus1(t())];
    case "this_month":
      return (t) => [t().with({ day: 1 }), plus1(t())];
    case "this_quarter":
      return (t) => [quarterStartOf(t()), plus1(t())];
    case "this_year":
      return (t) => [t().with({ month: 1, day: 1 }), plus1(t())];
    case "last_week":
      return lastN(1, "weeks");
    case "last_month":
      return lastN(1, "months");
    case "last_quarter":
      return (t) => {
        const end = quarterStartOf(t());
        return [end.subtract({ months: 3 }), end];
      };
    case "last_year":
      return (t) => {
        const end = t().with({ month: 1, day: 1 });
        return [end.subtract({ years: 1 }), end];
      };
  }
  let m = LAST_N.exec(text);
  if (m !== null) {
    const n = Number(m[1]);
    if (n < 1) {
      throw new RangeError(
        `Cannot resolve period "${label}": N must be at least 1, as in last_7_days`,
      );
    }
    return lastN(n, m[2] as "days" | "weeks" | "months");
  }
  if ((m = YEAR.exec(text)) !== null) {
    const year = Number(m[1]);
    return () => [
      plainDate(year, 1, 1, label),
      plainDate(year, 1, 1, label).add({ years: 1 }),
    ];
  }
  if ((m = QUARTER.exec(text)) !== null) {
    const year = Number(m[1]);
    const quarter = Number(m[2]);
    if (quarter < 1 || quarter > 4) {
      throw new RangeError(
        `Cannot resolve period "${label}": quarter ${
          m[2]
        } is out of range (Q1 to Q4)`,
      );
    }
    return () => {
      const start = plainDate(year, quarter * 3 - 2, 1, label);
      return [start, start.add({ months: 3 })];
    };
  }
  if ((m = MONTH.exec(text)) !== null) {
    const year = Number(m[1]);
    const month = Number(m[2]);
    return () => {
      const start = plainDate(year, month, 1, label);
      return [start, start.add({ months: 1 })];
    };
  }
  if ((m = ISO_WEEK.exec(text)) !== null) {
    const year = Number(m[1]);
    const week = Number(m[2]);
    return () => isoWeek(year, week);
  }
  if (DAY.test(text)) {
    return () => {
      const day = parseIsoDay(text) as Temporal.PlainDate;
      return [day, plus1(day)];
    };
  }
  if ((m = RANGE.exec(text)) !== null) {
    const [from, to] = [m[1] as string, m[2] as string];
    if (DAY.test(from) && DAY.test(to)) {
      return () => {
        const start = parseIsoDay(from) as Temporal.PlainDate;
        const last = parseIsoDay(to) as Temporal.PlainDate;
        if (Temporal.PlainDate.compare(start, last) > 0) {
          throw new RangeError(
            `Start ${from} is after end ${to}; write the earlier day first`,
          );
        }
        return [start, plus1(last)];
      };
    }
  }
  const guess = suggestPeriod(text);
  throw new RangeError(
    guess === undefined
      ? `Cannot resolve period "${label}": expected one of ${
        PERIOD_FORMS.join(", ")
      }`
      : `Cannot resolve period "${label}": did you mean "${guess}"? (expected one of ${
        PERIOD_FORMS.join(", ")
      })`,
  );
}

/** The named periods, for suggestions. */
const NAMED_PERIODS: readonly string[] = PERIOD_FORMS.filter((form) =>
  /^[a-z_]+$/.test(form)
);

/**
 * The period a mistyped one most likely means: `last-month` and `lastmonth`
 * are `last_month`, `last_7_day` is `last_7_days`, `2024/11` is `2024-11`,
 * a near miss of a named period is that period.
 */
function suggestPeriod(text: string): string | undefined {
  const words = text.replace(/[\s-]+/g, "_");
  const n = /^(last|past|previous)_?(\d+)_?(day|week|month)s?$/.exec(words);
  if (n) return `last_${n[2]}_${n[3]}s`;
  const dated = text.replace(/[/.]/g, "-");
  if (
    dated !== text && (YEAR.test(dated) || MONTH.test(dated) || DAY.test(dated))
  ) {
    return dated;
  }
  return suggest(words, NAMED_PERIODS) ??
    NAMED_PERIODS.find((named) => named.replace("_", "") === words);
}

function lastN(n: number, unit: "days" | "weeks" | "months"): Resolver {
  return (t, ws) => {
    const today = t();
    const end = unit === "days"
      ? today
      : unit === "weeks"
      ? weekStartOf(today, ws)
      : today.with({ day: 1 });
    const start = unit === "weeks"
      ? end.subtract({ days: 7 * n })
      : end.subtract({ [unit]: n });
    return [start, end];
  };
}

function weekStartOf(
  day: Temporal.PlainDate,
  weekStart: number,
): Temporal.PlainDate {
  return day.subtract({ days: (day.dayOfWeek - weekStart + 7) % 7 });
}

function quarterStartOf(day: Temporal.PlainDate): Temporal.PlainDate {
  return day.with({ month: day.month - ((day.month - 1) % 3), day: 1 });
}

function isoWeek(year: number, week: number): Range {
  const weeks =
    Temporal.PlainDate.from({ year, month: 12, day: 28 }).weekOfYear ?? 52;
  if (week < 1 || week > weeks) {
    throw new RangeError(
      `Week ${week} is out of range (${year} has ISO weeks 1 to ${weeks})`,
    );
  }
  const jan4 = Temporal.PlainDate.from({ year, month: 1, day: 4 });
  const start = jan4.subtract({ days: jan4.dayOfWeek - 1 }).add({
    days: 7 * (week - 1),
  });
  return [start, start.add({ days: 7 })];
}

function checkWeekStart(weekStart: unknown): number {
  if (typeof weekStart !== "number") {
    throw new TypeError(
      `Invalid weekStart ${
        JSON.stringify(String(weekStart))
      }: expected a number from 1 (Monday) to 7 (Sunday)`,
    );
  }
  if (!Number.isInteger(weekStart) || weekStart < 1 || weekStart > 7) {
    throw new RangeError(
      `Invalid weekStart ${weekStart}: expected a whole number from 1 (Monday) to 7 (Sunday)`,
    );
  }
  return weekStart;
}

function todayOf(
  now: NonNullable<ResolvePeriodOptions["now"]>,
  timezone: string,
): Temporal.PlainDate {
  if (now instanceof Temporal.PlainDate) return now;
  if (now instanceof Temporal.Instant) {
    return now.toZonedDateTimeISO(timezone).toPlainDate();
  }
  if (now instanceof Temporal.ZonedDateTime) {
    return now.withTimeZone(timezone).toPlainDate();
  }
  if (now instanceof Date) {
    const ms = now.getTime();
    if (Number.isNaN(ms)) {
      throw new RangeError(
        `Invalid now "Invalid Date": expected a valid Date, ISO instant or YYYY-MM-DD day`,
      );
    }
    return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(
      timezone,
    ).toPlainDate();
  }
  if (typeof now === "string") {
    const text = now.trim();
    if (DAY.test(text)) {
      try {
        return parseIsoDay(text) as Temporal.PlainDate;
      } catch (error) {
        throw new RangeError(
          `Invalid now "${now}": ${lowerFirst((error as Error).message)}`,
        );
      }
    }
    try {
      return Temporal.Instant.from(text).toZonedDateTimeISO(timezone)
        .toPlainDate();
    } catch {
      throw new RangeError(
        `Invalid now "${now}": expected an ISO instant with Z or an offset (2024-11-05T10:00:00Z) or a day YYYY-MM-DD`,
      );
    }
  }
  throw new TypeError(
    `Invalid now ${
      JSON.stringify(String(now))
    }: expected a Temporal.Instant, Temporal.ZonedDateTime, Temporal.PlainDate, Date or string`,
  );
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
