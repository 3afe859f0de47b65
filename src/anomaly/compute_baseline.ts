/**
 * What normal looks like for one point of a KPI's series: a robust centre
 * and spread of earlier points, seasonal where it helps (for days, a level
 * per weekday and a trend fitted on the log scale with outlying training
 * days set aside; otherwise a robust line with the median and the median
 * absolute deviation), and whether the point falls outside.
 *
 * @module
 */

import type { Grain } from "../series/series_buckets.ts";
import { roundStatistic } from "../_numbers.ts";
import { weekdayFit } from "./_weekday_fit.ts";

/** Which way of leaving the band counts. */
export type AnomalyDirection = "both" | "drop" | "rise";

/** How earlier points are chosen. */
export type AnomalySeasonality = "auto" | "weekday" | "none";

/** Settings of an anomaly baseline; every one has a default. */
export interface AnomalySettings {
  /**
   * How many earlier buckets the baseline learns from.
   * @default 56 for days (8 weeks), 12 for weeks and months, 8 for quarters, 5 for years
   */
  window?: number;
  /**
   * `weekday`: only earlier points on the same day of the week (daily
   * grain); `none`: every earlier point in the window; `auto`: `weekday` for
   * daily series, else `none`.
   * @default "auto"
   */
  seasonal?: AnomalySeasonality;
  /**
   * How many standard deviations the band is wide, each side (for days, of
   * the prediction; otherwise 1.4826 × the MAD). @default 3
   */
  sensitivity?: number;
  /** Which departures count. @default "both" */
  direction?: AnomalyDirection;
  /**
   * The smallest relative departure from the expected value that counts
   * (0.1 = 10%), so that tiny absolute moves on a steady series never fire.
   * @default 0.1
   */
  minChange?: number;
  /** The fewest earlier points a baseline needs. @default 4 */
  minPoints?: number;
  /**
   * Follow the points' trend (for days a slope common to all weekdays,
   * otherwise a Theil–Sen line) instead of their level alone, so that growth
   * or a season's slope is not read as a change.
   * @default true
   */
  trend?: boolean;
}

/** One earlier point the baseline may learn from. */
export interface BaselineSample {
  /** First day of the point's bucket, ISO. */
  periodStart: string;
  /** Its value, or null when it could not be computed. */
  value: number | null;
}

/** The baseline of one point, as it appears on a result (`anomaly`). */
export interface AnomalyBaseline {
  /** The expected value of the point by the baseline's fit. */
  expected: number | null;
  /** The lower edge of the normal band. */
  lower: number | null;
  /** The upper edge of the normal band. */
  upper: number | null;
  /** How far the value is from expected, in the band's standard deviations (signed; for days, on the log scale). */
  score: number | null;
  /** How many earlier points the baseline used (for days, those of the same weekday). */
  baselinePoints: number;
  /** Whether the value is unusual by these settings. */
  anomalous: boolean;
  /** Why there is no baseline, when there is none. */
  note: string | null;
}

/** The scale that makes the MAD estimate a normal standard deviation. */
const MAD_SCALE = 1.4826;

/** The default training window, in buckets, of each grain. */
export const DEFAULT_ANOMALY_WINDOW: Readonly<Record<Grain, number>> = {
  day: 56,
  week: 12,
  month: 12,
  quarter: 8,
  year: 5,
};

/**
 * Computes the baseline of the point starting `periodStart` from earlier
 * points. For a day (weekday seasonality): a level per weekday and a common
 * trend fitted on the log scale, robustly (training days more than 3 robust
 * deviations from a resistant fit are set aside, the rest fitted by least
 * squares); the band is `expected × e^(± sensitivity × d)`, d the standard
 * deviation of the prediction (docs/anomalies.md gives the formulas).
 * Otherwise: a Theil–Sen line, the median of what is left around it as
 * `expected`, and the band `expected ± sensitivity × spread`, the spread
 * being 1.4826 × the median absolute deviation (a standard deviation for
 * normal data, unmoved by a few outliers). Spreads are floored at 1% of
 * |expected| so that a perfectly steady series still has a band. The value
 * is anomalous when it leaves the band in `direction` and differs from
 * expected by at least `minChange` of |expected|.
 *
 * @param value The point's value.
 * @param periodStart The point's first day, ISO.
 * @param earlier Earlier points of the same series, oldest first (later ones are ignored).
 * @param grain The series' grain.
 * @param settings The baseline's settings.
 * @returns The baseline; with too little data, nulls and a note, never anomalous.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * // Six weeks of daily orders: 100 on weekdays, 40 on weekends, then a
 * // Monday with half as many.
 * const earlier = Array.from({ length: 42 }, (_, i) => {
 *   const day = Temporal.PlainDate.from("2024-01-01").add({ days: i });
 *   return { periodStart: day.toString(), value: day.dayOfWeek > 5 ? 40 : 100 };
 * });
 * const baseline = computeBaseline(50, "2024-02-12", earlier, "day");
 * assert.equal(baseline.expected, 100);
 * assert.equal(baseline.anomalous, true);
 * ```
 */
export function computeBaseline(
  value: number | null,
  periodStart: string,
  earlier: readonly BaselineSample[],
  grain: Grain,
  settings: AnomalySettings = {},
): AnomalyBaseline {
  const window = settings.window ?? DEFAULT_ANOMALY_WINDOW[grain];
  const minPoints = settings.minPoints ?? 4;
  const seasonal = settings.seasonal ?? "auto";
  const byWeekday = seasonal === "weekday" ||
    (seasonal === "auto" && grain === "day");
  const prior = earlier.filter((p) => p.periodStart < periodStart).slice(
    -window,
  );
  const today = epochDay(periodStart);
  const known = prior
    .map((p) => ({ x: epochDay(p.periodStart), y: p.value }))
    .filter((p): p is { x: number; y: number } =>
      typeof p.y === "number" && Number.isFinite(p.y)
    );
  if (byWeekday) {
    return dailyBaseline(value, known, today, settings, minPoints);
  }
  const fit = trendFit(known, today, settings.trend !== false);
  if (fit.points < minPoints) return tooLittle(fit.points, minPoints, false);
  const { expected } = fit;
  const spread = Math.max(fit.spread, Math.abs(expected) * 0.01);
  const sensitivity = settings.sensitivity ?? 3;
  const lower = expected - sensitivity * spread;
  const upper = expected + sensitivity * spread;
  const score = value === null || spread === 0
    ? null
    : (value - expected) / spread;
  return verdict(
    value,
    { expected, lower, upper, score },
    fit.points,
    settings,
  );
}

/** The baseline of a day from same-weekday levels and a trend (see `_weekday_fit.ts`). */
function dailyBaseline(
  value: number | null,
  known: readonly { x: number; y: number }[],
  today: number,
  settings: AnomalySettings,
  minPoints: number,
): AnomalyBaseline {
  const fit = weekdayFit(
    known.map((p) => ({ t: p.x - today, y: p.y })),
    value,
    settings.sensitivity ?? 3,
    settings.trend !== false,
  );
  const points = fit?.points ?? 0;
  if (fit === null || points < minPoints) {
    return tooLittle(points, minPoints, true);
  }
  return verdict(value, fit, points, settings);
}

/** A baseline with too little data: nulls, a note, never anomalous. */
function tooLittle(
  points: number,
  minPoints: number,
  weekday: boolean,
): AnomalyBaseline {
  return {
    expected: null,
    lower: null,
    upper: null,
    score: null,
    baselinePoints: points,
    anomalous: false,
    note:
      `Too little data for a baseline: ${points} of the ${minPoints} earlier ${
        weekday ? "same-weekday " : ""
      }points it needs`,
  };
}

/**
 * The verdict on a value given its band: outside it in `direction`, and at
 * least `minChange` of |expected| away.
 */
function verdict(
  value: number | null,
  band: {
    expected: number;
    lower: number;
    upper: number;
    score: number | null;
  },
  points: number,
  settings: AnomalySettings,
): AnomalyBaseline {
  const { expected, lower, upper, score } = band;
  const direction = settings.direction ?? "both";
  const minChange = settings.minChange ?? 0.1;
  const outside = value !== null &&
    ((direction !== "rise" && value < lower) ||
      (direction !== "drop" && value > upper));
  const bigEnough = value !== null &&
    Math.abs(value - expected) >= minChange * Math.abs(expected);
  return {
    expected: roundStatistic(expected),
    lower: roundStatistic(lower),
    upper: roundStatistic(upper),
    score: score === null ? null : Math.round(score * 100) / 100,
    baselinePoints: points,
    anomalous: outside && bigEnough,
    note: null,
  };
}

/** Days since 1970-01-01 of an ISO day, without building a date object. */
function epochDay(iso: string): number {
  return Date.UTC(
    Number(iso.slice(0, 4)),
    Number(iso.slice(5, 7)) - 1,
    Number(iso.slice(8, 10)),
  ) / 86_400_000;
}

interface Fit {
  expected: number;
  spread: number;
  points: number;
}

/**
 * Values without a weekly pattern: a robust line through them (Theil–Sen,
 * the median of pairwise slopes) when `trend`, then the median and MAD of
 * what is left around it.
 */
function trendFit(
  known: readonly { x: number; y: number }[],
  today: number,
  trend: boolean,
): Fit {
  if (known.length === 0) return { expected: 0, spread: 0, points: 0 };
  const slope = trend ? theilSen(known) : 0;
  const residuals = known.map((p) => p.y - slope * (p.x - today));
  const expected = median(residuals);
  const mad = median(residuals.map((r) => Math.abs(r - expected)));
  return { expected, spread: MAD_SCALE * mad, points: known.length };
}

/** The Theil–Sen slope: the median of the slopes between every two points. */
function theilSen(points: readonly { x: number; y: number }[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dx = points[j]!.x - points[i]!.x;
      if (dx !== 0) slopes.push((points[j]!.y - points[i]!.y) / dx);
    }
  }
  return slopes.length === 0 ? 0 : median(slopes);
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
