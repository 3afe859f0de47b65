/**
 * Cuts a span of time into the buckets of a series: whole days, weeks,
 * months, quarters or years, by exactly the rules of single periods (time
 * zone, `week_start`, ISO weeks). Pure: "now" is passed in.
 *
 * @module
 */

import { expectedOneOf } from "../config/_suggest.ts";
import type { Period } from "../types.ts";
import {
  resolvePeriod,
  type ResolvePeriodOptions,
} from "../period/resolve_period.ts";
import { canonicalTimeZone } from "../period/_dates.ts";
import { epochDay, isoDay, isoWeekLabel } from "./_days.ts";

/** The length of one point of a series. */
export type Grain = "day" | "week" | "month" | "quarter" | "year";

/** Every grain, from the shortest to the longest. */
export const GRAINS: readonly Grain[] = [
  "day",
  "week",
  "month",
  "quarter",
  "year",
];

/** One bucket of a series: a period, and whether it is still running. */
export interface SeriesBucket extends Period {
  /**
   * Whether the bucket holds today: it is then cut at the end of today, like
   * `this_month`, and its value may still change.
   */
  partial: boolean;
}

/** Options of {@linkcode seriesBuckets}. */
export interface SeriesBucketsOptions {
  /**
   * A period string; the series starts with the bucket holding its first
   * day. Exclusive with `last`.
   * @default undefined
   */
  from?: string;
  /**
   * A period string; the series ends with the bucket holding its last day.
   * @default "today"
   */
  to?: string;
  /**
   * How many buckets, ending with the bucket of `to`. Used when `from` is
   * not given.
   * @default 12
   */
  last?: number;
  /** The moment relative periods resolve against; required for `today`. */
  now?: Temporal.Instant | Temporal.PlainDate | string;
  /** IANA time zone the days are cut in. @default "UTC" */
  timezone?: string;
  /** First day of the week, 1 = Monday ... 7 = Sunday. @default 1 */
  weekStart?: number;
  /** Most buckets allowed. @default 5000 */
  maxBuckets?: number;
}

const DEFAULT_LAST = 12;
const DEFAULT_MAX_BUCKETS = 5000;

/**
 * Lists the buckets of a series, oldest first. Buckets are whole grains
 * (a week runs from `weekStart`; with Monday it is an ISO week labelled
 * `2024-W07`), each labelled with a period string that
 * {@linkcode resolvePeriod} turns back into the same range. The bucket
 * holding today is marked `partial` and ends after today (the same days
 * `this_month` covers); buckets that start after today are left out.
 *
 * @param grain Day, week, month, quarter or year.
 * @param options The span (`from`/`to` or `last` ending at `to`), now, zone
 *   and week start.
 * @returns The buckets, oldest first.
 * @throws {RangeError} For an unknown grain, a bad `last`, `from` after
 *   `to`, too many buckets, or a bad period string.
 *
 * @example Three months ending with the current, partial one
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const buckets = seriesBuckets("month", { last: 3, now: "2024-11-15" });
 * assert.deepEqual(buckets.map((b) => [b.label, b.start, b.end, b.partial]), [
 *   ["2024-09", "2024-09-01", "2024-10-01", false],
 *   ["2024-10", "2024-10-01", "2024-11-01", false],
 *   ["2024-11-01..2024-11-15", "2024-11-01", "2024-11-16", true],
 * ]);
 * ```
 */
export function seriesBuckets(
  grain: Grain,
  options: SeriesBucketsOptions = {},
): SeriesBucket[] {
  checkGrain(grain);
  const timezone = canonicalTimeZone(options.timezone ?? "UTC");
  const weekStart = options.weekStart ?? 1;
  const maxBuckets = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
  const resolveOptions = {
    timezone,
    weekStart,
    ...(options.now === undefined ? {} : { now: options.now }),
  };
  // Relative periods only move with today: the same span, zone and today
  // give the same buckets, cut once.
  const today = options.now === undefined
    ? null
    : resolvePeriod("today", resolveOptions).start;
  const key = JSON.stringify([
    grain,
    timezone,
    weekStart,
    maxBuckets,
    options.from ?? null,
    options.to ?? null,
    options.last ?? null,
    today,
  ]);
  let buckets = cut.get(key);
  if (buckets === undefined) {
    buckets = cutBuckets(
      grain,
      {
        ...options,
        timezone,
        weekStart,
        maxBuckets,
      },
      resolveOptions,
      today,
    );
    if (cut.size >= MOST_CUT) cut.delete(cut.keys().next().value as string);
    cut.set(key, buckets);
  }
  return buckets.slice();
}

/**
 * Buckets already cut, by grain, span, zone, week start and today, oldest
 * entry first. Their buckets are frozen, so that the instants and value
 * keys computed for them are kept with them (see `periodInstants` and
 * `valueKey`): a dashboard asking for the same series again does no
 * per-bucket date or string work.
 */
const cut = new Map<string, readonly SeriesBucket[]>();
const MOST_CUT = 64;

function cutBuckets(
  grain: Grain,
  options: SeriesBucketsOptions & {
    timezone: string;
    weekStart: number;
    maxBuckets: number;
  },
  resolveOptions: ResolvePeriodOptions,
  todayStart: string | null,
): readonly SeriesBucket[] {
  const { timezone, weekStart, maxBuckets } = options;
  const toPeriod = resolvePeriod(options.to ?? "today", resolveOptions);
  const lastDay = Temporal.PlainDate.from(toPeriod.end).subtract({ days: 1 });
  const lastStart = bucketStart(lastDay, grain, weekStart);
  let firstStart: Temporal.PlainDate;
  if (options.from !== undefined) {
    if (options.last !== undefined) {
      throw new RangeError(
        "Cannot use both `from` and `last`: give a start period, or a number of points ending at `to`",
      );
    }
    const fromPeriod = resolvePeriod(options.from, resolveOptions);
    firstStart = bucketStart(
      Temporal.PlainDate.from(fromPeriod.start),
      grain,
      weekStart,
    );
    if (Temporal.PlainDate.compare(firstStart, lastStart) > 0) {
      throw new RangeError(
        `Cannot make a series from "${options.from}" to "${toPeriod.label}": the start is after the end`,
      );
    }
  } else {
    const last = options.last ?? DEFAULT_LAST;
    if (!Number.isInteger(last) || last < 1 || last > maxBuckets) {
      throw new RangeError(
        `Invalid last ${last}: expected a whole number from 1 to ${maxBuckets}`,
      );
    }
    firstStart = addGrains(lastStart, grain, -(last - 1));
  }
  const today = todayStart === null
    ? null
    : Temporal.PlainDate.from(todayStart);
  // Whole numbers of days and months from here on: a Temporal object per
  // step costs more than the rest of a 730-day series.
  const todayDay = today === null
    ? Infinity
    : epochDay(today.year, today.month, today.day);
  const months = grain === "month" ? 1 : grain === "quarter" ? 3 : 12;
  const dayStep = grain === "day" ? 1 : grain === "week" ? 7 : 0;
  const monthIndex = (d: Temporal.PlainDate) => d.year * 12 + d.month - 1;
  const dayOfMonthIndex = (i: number) =>
    epochDay(Math.floor(i / 12), (i % 12) + 1, 1);
  const firstDay = epochDay(firstStart.year, firstStart.month, firstStart.day);
  const lastBucket = epochDay(lastStart.year, lastStart.month, lastStart.day);
  const buckets: SeriesBucket[] = [];
  for (
    let i = dayStep > 0 ? firstDay : monthIndex(firstStart);;
    i += dayStep > 0 ? dayStep : months
  ) {
    const start = dayStep > 0 ? i : dayOfMonthIndex(i);
    if (start > lastBucket) break;
    if (buckets.length >= maxBuckets) {
      throw new RangeError(
        `Too many ${grain} points from ${firstStart} to ${lastStart}: at most ${maxBuckets}; choose a coarser grain or a shorter span`,
      );
    }
    if (start > todayDay) break;
    const whole = dayStep > 0 ? i + dayStep : dayOfMonthIndex(i + months);
    let end = whole;
    let partial = false;
    if (end > todayDay) {
      partial = true;
      end = todayDay + 1;
    }
    buckets.push(Object.freeze({
      label: end === whole
        ? wholeLabel(start, i, grain, weekStart)
        : `${isoDay(start)}..${isoDay(end - 1)}`,
      start: isoDay(start),
      end: isoDay(end),
      timezone,
      partial,
    }));
  }
  return buckets;
}

/**
 * The first day of the bucket of `grain` that holds `day`.
 *
 * @param day A calendar day.
 * @param grain The grain.
 * @param weekStart First day of the week, 1 = Monday. @default 1
 * @returns The bucket's first day.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const day = Temporal.PlainDate.from("2024-08-14");
 * assert.equal(bucketStart(day, "quarter").toString(), "2024-07-01");
 * assert.equal(bucketStart(day, "week").toString(), "2024-08-12");
 * assert.equal(bucketStart(day, "week", 7).toString(), "2024-08-11");
 * ```
 */
export function bucketStart(
  day: Temporal.PlainDate,
  grain: Grain,
  weekStart = 1,
): Temporal.PlainDate {
  switch (grain) {
    case "day":
      return day;
    case "week":
      return day.subtract({ days: (day.dayOfWeek - weekStart + 7) % 7 });
    case "month":
      return day.with({ day: 1 });
    case "quarter":
      return day.with({ month: day.month - ((day.month - 1) % 3), day: 1 });
    case "year":
      return day.with({ month: 1, day: 1 });
  }
}

/**
 * Moves a bucket's first day by `n` buckets of `grain` (negative: back).
 *
 * @param start A bucket's first day.
 * @param grain The grain.
 * @param n How many buckets.
 * @returns The first day `n` buckets away.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const jan = Temporal.PlainDate.from("2024-01-01");
 * assert.equal(addGrains(jan, "quarter", -1).toString(), "2023-10-01");
 * ```
 */
export function addGrains(
  start: Temporal.PlainDate,
  grain: Grain,
  n: number,
): Temporal.PlainDate {
  switch (grain) {
    case "day":
      return start.add({ days: n });
    case "week":
      return start.add({ days: 7 * n });
    case "month":
      return start.add({ months: n });
    case "quarter":
      return start.add({ months: 3 * n });
    case "year":
      return start.add({ years: n });
  }
}

/**
 * The period string of a whole bucket: `2024-11-05`, `2024-W07` (ISO week
 * when weeks start on Monday; otherwise the range of its days), `2024-11`,
 * `2024-Q3`, `2024`.
 *
 * @param start The bucket's first day.
 * @param grain The grain.
 * @param weekStart First day of the week, 1 = Monday. @default 1
 * @returns A label {@linkcode resolvePeriod} reads back as the bucket.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * // 2020-12-28 opens ISO week 53 of 2020.
 * assert.equal(bucketLabel(Temporal.PlainDate.from("2020-12-28"), "week"), "2020-W53");
 * assert.equal(bucketLabel(Temporal.PlainDate.from("2024-07-01"), "quarter"), "2024-Q3");
 * ```
 */
export function bucketLabel(
  start: Temporal.PlainDate,
  grain: Grain,
  weekStart = 1,
): string {
  const year = String(start.year).padStart(4, "0");
  const two = (n: number) => String(n).padStart(2, "0");
  switch (grain) {
    case "day":
      return start.toString();
    case "week":
      if (weekStart === 1) {
        return `${String(start.yearOfWeek).padStart(4, "0")}-W${
          two(start.weekOfYear ?? 1)
        }`;
      }
      return rangeLabel(start, start.add({ days: 7 }));
    case "month":
      return `${year}-${two(start.month)}`;
    case "quarter":
      return `${year}-Q${Math.ceil(start.month / 3)}`;
    case "year":
      return year;
  }
}

/**
 * Checks that a value is a grain.
 *
 * @param grain The value.
 * @returns The grain.
 * @throws {RangeError} When it is not one of day, week, month, quarter, year.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(checkGrain("month"), "month");
 * assert.throws(() => checkGrain("fortnight"), /expected one of day, week/);
 * ```
 */
export function checkGrain(grain: unknown): Grain {
  if (typeof grain !== "string" || !GRAINS.includes(grain as Grain)) {
    throw new RangeError(
      `Invalid grain "${String(grain)}"${expectedOneOf(String(grain), GRAINS)}`,
    );
  }
  return grain as Grain;
}

/** {@linkcode bucketLabel} from a day number (and a month index). */
function wholeLabel(
  start: number,
  index: number,
  grain: Grain,
  weekStart: number,
): string {
  switch (grain) {
    case "day":
      return isoDay(start);
    case "week":
      return weekStart === 1
        ? isoWeekLabel(start)
        : `${isoDay(start)}..${isoDay(start + 6)}`;
    default: {
      const year = String(Math.floor(index / 12)).padStart(4, "0");
      const month = (index % 12) + 1;
      if (grain === "month") return `${year}-${String(month).padStart(2, "0")}`;
      if (grain === "quarter") return `${year}-Q${Math.ceil(month / 3)}`;
      return year;
    }
  }
}

function rangeLabel(start: Temporal.PlainDate, end: Temporal.PlainDate) {
  return `${start}..${end.subtract({ days: 1 })}`;
}
