/**
 * Turns computed values into the points of a series: one point per bucket
 * with its comparisons, the shapes `engine.series()` returns.
 *
 * @module
 */

import { compare } from "../compare/compare.ts";
import { shiftPeriod } from "../period/shift_period.ts";
import type {
  ComparisonCode,
  ComparisonResult,
  KPIDefinition,
  Period,
} from "../types.ts";
import type { Grain, SeriesBucket } from "./series_buckets.ts";

/** One point of a series. */
export interface SeriesPoint {
  /** First day of the bucket. */
  periodStart: string;
  /** First day after the bucket (after today for a partial bucket). */
  periodEnd: string;
  /** The value, or null when it could not be computed or had no rows. */
  value: number | null;
  /** Whether the bucket holds today, so that its value may still change. */
  partial: boolean;
  /** Comparisons by code, when the KPI asks for any. */
  comparisons?: Partial<Record<ComparisonCode, ComparisonResult>>;
  /** Why the value could not be computed; absent when it could. */
  error?: string;
  /** Why the value is null although no error occurred. */
  note?: string;
}

/** A series of points per KPI, all of one grain. */
export interface SeriesResult {
  /** The grain of every point. */
  grain: Grain;
  /** Points per KPI name, oldest first. */
  points: Record<string, SeriesPoint[]>;
}

/** A value as the engine computed it for one KPI and period. */
export interface PointValue {
  /** The value, or null. */
  value: number | null;
  /** Why it could not be computed, or null. */
  error: string | null;
  /** Why it is null without an error. */
  note?: string;
}

/** Options of {@linkcode buildSeriesPoints}. */
export interface BuildSeriesPointsOptions {
  /** Whether to add the KPI's comparisons to each point. @default true */
  comparisons?: boolean;
}

/**
 * Builds one KPI's points from the values computed for its buckets and
 * their comparison bases.
 *
 * @param definition The KPI.
 * @param buckets The buckets, oldest first.
 * @param lookup The value of a KPI for a period (null when none was computed).
 * @param options Whether to add comparisons.
 * @returns The points, one per bucket.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const buckets = [
 *   { label: "2024-10", start: "2024-10-01", end: "2024-11-01", timezone: "UTC", partial: false },
 *   { label: "2024-11", start: "2024-11-01", end: "2024-12-01", timezone: "UTC", partial: false },
 * ];
 * const values: Record<string, number> = { "2024-09-01": 4, "2024-10-01": 5, "2024-11-01": 6 };
 * const points = buildSeriesPoints(
 *   { name: "orders", source: "dataframe", compare: ["MoM"] },
 *   buckets,
 *   (_name, period) => ({ value: values[period.start] ?? null, error: null }),
 * );
 * assert.equal(points[1]?.value, 6);
 * assert.equal(points[1]?.comparisons?.MoM?.previousValue, 5);
 * assert.equal(points[0]?.comparisons?.MoM?.changePct, 25);
 * ```
 */
export function buildSeriesPoints(
  definition: KPIDefinition,
  buckets: readonly SeriesBucket[],
  lookup: (name: string, period: Period) => PointValue | null,
  options: BuildSeriesPointsOptions = {},
): SeriesPoint[] {
  const codes = options.comparisons === false ? [] : definition.compare ?? [];
  return buckets.map((bucket) => {
    const got = lookup(definition.name, bucket) ??
      { value: null, error: "No value was computed" };
    const point: SeriesPoint = {
      periodStart: bucket.start,
      periodEnd: bucket.end,
      value: got.error ? null : got.value,
      partial: bucket.partial,
    };
    if (codes.length > 0) {
      const comparisons: Partial<Record<ComparisonCode, ComparisonResult>> = {};
      for (const code of codes) {
        const previousPeriod = shiftPeriod(bucket, code);
        const previous = lookup(definition.name, previousPeriod);
        comparisons[code] = compare(
          point.value,
          previous?.error ? null : previous?.value ?? null,
          {
            polarity: definition.polarity ?? "higher_is_better",
            previousPeriod,
          },
        );
      }
      point.comparisons = comparisons;
    }
    if (got.error) point.error = got.error;
    else if (got.note !== undefined) point.note = got.note;
    return point;
  });
}

/** Options of `engine.series()`. */
export interface SeriesOptions {
  /** The length of each point: day, week, month, quarter or year. */
  grain: Grain;
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
  /** How many points, ending with the bucket of `to`. @default 12 */
  last?: number;
  /** Whether to add each KPI's comparisons to its points. @default true */
  comparisons?: boolean;
}
