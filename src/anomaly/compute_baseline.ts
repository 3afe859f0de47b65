/**
 * What normal looks like for one point of a KPI's series: a robust centre
 * and spread of earlier points (the median and the median absolute
 * deviation), seasonal where it helps, and whether the point falls outside.
 *
 * @module
 */

import type { Grain } from "../series/series_buckets.ts";

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
  /** How many robust standard deviations the band is wide, each side. @default 3 */
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
  /** The expected value: the median of the baseline points. */
  expected: number | null;
  /** The lower edge of the normal band. */
  lower: number | null;
  /** The upper edge of the normal band. */
  upper: number | null;
  /** How far the value is from expected, in robust standard deviations (signed). */
  score: number | null;
  /** How many earlier points the baseline used. */
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
 * points. The band is `expected ± sensitivity × spread`, where the spread is
 * 1.4826 × the median absolute deviation (a standard deviation for normal
 * data, unmoved by a few outliers), floored at 1% of |expected| so that a
 * perfectly steady series still has a band. The value is anomalous when it
 * leaves the band in `direction` and differs from expected by at least
 * `minChange` of |expected|.
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
 * // Five Mondays of orders, then a Monday with half as many.
 * const earlier = ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29"]
 *   .map((periodStart, i) => ({ periodStart, value: [100, 104, 98, 101, 99][i]! }));
 * const baseline = computeBaseline(50, "2024-02-05", earlier, "day");
 * assert.equal(baseline.expected, 100);
 * assert.equal(baseline.anomalous, true);
 * assert.ok(baseline.score! < -10);
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
  const weekday = Temporal.PlainDate.from(periodStart).dayOfWeek;
  const samples = prior
    .filter((p) =>
      !byWeekday || Temporal.PlainDate.from(p.periodStart).dayOfWeek === weekday
    )
    .map((p) => p.value)
    .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (samples.length < minPoints) {
    return {
      expected: null,
      lower: null,
      upper: null,
      score: null,
      baselinePoints: samples.length,
      anomalous: false,
      note:
        `Too little data for a baseline: ${samples.length} of the ${minPoints} earlier ${
          byWeekday ? "same-weekday " : ""
        }points it needs`,
    };
  }
  const expected = median(samples);
  const mad = median(samples.map((v) => Math.abs(v - expected)));
  const spread = Math.max(MAD_SCALE * mad, Math.abs(expected) * 0.01);
  const sensitivity = settings.sensitivity ?? 3;
  const lower = expected - sensitivity * spread;
  const upper = expected + sensitivity * spread;
  const score = value === null || spread === 0
    ? null
    : (value - expected) / spread;
  const direction = settings.direction ?? "both";
  const minChange = settings.minChange ?? 0.1;
  const outside = value !== null &&
    ((direction !== "rise" && value < lower) ||
      (direction !== "drop" && value > upper));
  const bigEnough = value !== null &&
    Math.abs(value - expected) >= minChange * Math.abs(expected);
  return {
    expected: tidy(expected),
    lower: tidy(lower),
    upper: tidy(upper),
    score: score === null ? null : Math.round(score * 100) / 100,
    baselinePoints: samples.length,
    anomalous: outside && bigEnough,
    note: null,
  };
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function tidy(x: number): number {
  return Number(x.toPrecision(12));
}
