/**
 * The shapes of breakdowns (a KPI per segment of a dimension) and drivers
 * (which segments explain a change), in TypeScript and JSON alike.
 *
 * @module
 */

import type { ComparisonCode, ComparisonResult } from "../types.ts";

/**
 * A segment: the value of each dimension it is cut by, e.g.
 * `{ "region": "EU" }`. Values are text; `null` is the segment of rows
 * whose dimension is NULL (or missing, in memory).
 */
export type Segment = Record<string, string | null>;

/**
 * How a KPI's segments combine into its total, which decides how a change
 * is attributed: `additive` (sums and counts: segments add up to the
 * total), `ratio` (averages, rates and derived `a / b`: a weighted mean of
 * the segments' own ratios), or `null` when neither holds (e.g. a template
 * that returns a finished value, `last`, or a derived expression that is
 * neither a sum nor a quotient).
 */
export type AttributionMethod = "additive" | "ratio";

/** What one segment holds in one period. */
export interface SegmentMeasure {
  /** The KPI's value in the segment, or null (no rows for a ratio). */
  value: number | null;
  /** Additive part: the sum (or count); for a ratio its numerator. */
  numerator: number;
  /** A ratio's denominator (rows, non-missing values, or `b` of `a / b`); 1 otherwise. */
  denominator: number;
}

/** One row of a breakdown. */
export interface BreakdownRow {
  /** The segment, e.g. `{ "region": "EU" }`. */
  segment: Segment;
  /** The KPI's value in the segment. */
  value: number | null;
  /**
   * The segment's share of the total, from 0 to 1: of the value for
   * additive KPIs, of the weight (the ratio's denominator, e.g. rows) for
   * ratios; null when the KPI is neither.
   */
  share: number | null;
  /** Each comparison of the segment with its own earlier value. */
  comparisons: Partial<Record<ComparisonCode, ComparisonResult>>;
  /** Present on the row that folds the smaller segments: how many it holds. */
  other?: number;
}

/** The segments beyond the cardinality cap, folded into the "other" row. */
export interface BreakdownCut {
  /** The cap: most segments kept per dimension. */
  limit: number;
  /** How many segments the data had. */
  segments: number;
  /** How many were folded into "other" because of the cap. */
  cut: number;
}

/** A KPI broken down by one dimension. */
export interface DimensionBreakdown {
  /** The dimension, e.g. `region`. */
  dimension: string;
  /**
   * The segments, largest first (by value for additive KPIs, by weight for
   * ratios), the top N kept and the rest folded into one last row with
   * `other` set, so that the rows still add up to the total.
   */
  rows: BreakdownRow[];
  /** How many segments the data had (before top N and the cap). */
  segments: number;
  /** What the cardinality cap cut, or null. */
  cut: BreakdownCut | null;
}

/** A KPI broken down by one or more dimensions for one period. */
export interface KPIBreakdown {
  /** KPI name. */
  name: string;
  /** KPI label. */
  label: string;
  /** KPI unit, or null. */
  unit: string | null;
  /** First day of the period. */
  periodStart: string;
  /** First day after the period. */
  periodEnd: string;
  /** The KPI's total over every segment. */
  value: number | null;
  /** How segments combine, or null when they do not add up. */
  method: AttributionMethod | null;
  /** One breakdown per dimension asked for. */
  dimensions: DimensionBreakdown[];
  /** Why the breakdown could not be computed, or null. */
  error: string | null;
}

/** One segment's part in a change. */
export interface Driver {
  /** The slice, by one dimension: `{ "region": "EU" }`. */
  segment: Segment;
  /** How much of the total change the segment accounts for, in the KPI's unit. */
  contribution: number;
  /** `contribution / change * 100`; null when the change is 0. */
  contributionPct: number | null;
  /** Ratios: the part due to the segment's own ratio moving. */
  rateEffect?: number;
  /** Ratios: the part due to the segment's weight moving. */
  mixEffect?: number;
  /** The segment's value in the period. */
  value: number | null;
  /** The segment's value in the earlier period. */
  previousValue: number | null;
}

/** Why a KPI changed between a period and an earlier one. */
export interface KPIDrivers {
  /** KPI name. */
  name: string;
  /** KPI label. */
  label: string;
  /** KPI unit, or null. */
  unit: string | null;
  /** The comparison explained. */
  compare: ComparisonCode;
  /** First day of the period. */
  periodStart: string;
  /** First day after the period. */
  periodEnd: string;
  /** First day of the earlier period. */
  previousStart: string;
  /** First day after the earlier period. */
  previousEnd: string;
  /** The value in the period. */
  value: number | null;
  /** The value in the earlier period. */
  previousValue: number | null;
  /** `value - previousValue`: the exact sum of every segment's contribution. */
  change: number | null;
  /** `change / |previousValue| * 100`, or null. */
  changePct: number | null;
  /** How the change was split, or null when it cannot be. */
  method: AttributionMethod | null;
  /** The dimensions whose slices were ranked. */
  dimensions: string[];
  /** The slices that explain most of the change, largest first. */
  drivers: Driver[];
  /** The part of the change the listed drivers leave unexplained. */
  unexplained: number | null;
  /** `unexplained / change * 100`, or null. */
  unexplainedPct: number | null;
  /** Why there are no drivers although no error occurred, or null. */
  note: string | null;
  /** Why the drivers could not be computed, or null. */
  error: string | null;
}
