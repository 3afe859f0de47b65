/**
 * Assembles one dimension's breakdown from per-segment measures: sorting,
 * the cardinality cap, the top N and the "other" row that folds the rest
 * so that the rows still add up to the total.
 *
 * @module
 */

import { compare } from "../compare/compare.ts";
import { cleanNumber } from "../_numbers.ts";
import type {
  ComparisonCode,
  ComparisonResult,
  Period,
  Polarity,
} from "../types.ts";
import { decimalSum } from "./_exact.ts";
import type {
  AttributionMethod,
  BreakdownRow,
  DimensionBreakdown,
  Segment,
  SegmentMeasure,
} from "./types.ts";

/** One segment's measures in the period and each comparison base. */
export interface SegmentSeries {
  /** The segment. */
  segment: Segment;
  /** Its measure in the period, or null when it had no rows. */
  current: SegmentMeasure | null;
  /** Its measure in each comparison base, or null when it had no rows. */
  previous: Partial<Record<ComparisonCode, SegmentMeasure | null>>;
}

/** Options of {@linkcode assembleBreakdown}. */
export interface AssembleBreakdownOptions {
  /** How segments combine; null when they do not add up. @default null */
  method?: AttributionMethod | null;
  /** Rows kept before the rest fold into "other". @default 10 */
  top?: number;
  /** Most segments considered; the rest are folded and reported. @default 1000 */
  cap?: number;
  /** The comparison bases, by code. @default {} */
  comparisons?: Partial<Record<ComparisonCode, Period>>;
  /** Whether a rise is good news. @default "higher_is_better" */
  polarity?: Polarity;
}

/** The label the row of folded segments carries. */
export const OTHER_SEGMENT = "(other)";

/**
 * Sorts segments (largest value first for additive KPIs, largest weight
 * first for ratios; the segment's text breaks ties), keeps at most `cap`
 * and then the `top` first, and folds the rest into a last row marked
 * `other` whose value, share and comparisons are those of the folded
 * segments together: additive values add, ratios are re-divided
 * (`Σ numerator / Σ denominator`). KPIs that do not add up get no "other"
 * value (null) and no shares.
 *
 * @param dimension The dimension.
 * @param segments Every segment's measures.
 * @param options Method, top N, cap, comparisons and polarity.
 * @returns The breakdown.
 * @throws {RangeError} When `top` or `cap` is not a whole number of at least 1.
 *
 * @example Three regions, the top two kept
 * ```ts
 * import assert from "node:assert/strict";
 * const m = (value: number) => ({ value, numerator: value, denominator: 1 });
 * const breakdown = assembleBreakdown("region", [
 *   { segment: { region: "EU" }, current: m(50.1), previous: {} },
 *   { segment: { region: "US" }, current: m(30.2), previous: {} },
 *   { segment: { region: null }, current: m(0.3), previous: {} },
 *   { segment: { region: "APAC" }, current: m(19.4), previous: {} },
 * ], { method: "additive", top: 2 });
 * assert.deepEqual(breakdown.rows.map((r) => [r.segment.region, r.value]), [
 *   ["EU", 50.1], ["US", 30.2], ["(other)", 19.7],
 * ]);
 * assert.equal(breakdown.rows[2]?.other, 2);
 * ```
 */
export function assembleBreakdown(
  dimension: string,
  segments: readonly SegmentSeries[],
  options: AssembleBreakdownOptions = {},
): DimensionBreakdown {
  const method = options.method ?? null;
  const top = options.top ?? 10;
  const cap = options.cap ?? 1000;
  for (const [name, value] of [["top", top], ["cap", cap]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `Invalid ${name} ${value}: expected a whole number of at least 1`,
      );
    }
  }
  const polarity = options.polarity ?? "higher_is_better";
  const bases = options.comparisons ?? {};
  const codes = Object.keys(bases) as ComparisonCode[];

  const weight = (s: SegmentSeries): number =>
    method === "ratio"
      ? s.current?.denominator ?? 0
      : s.current?.value ?? -Infinity;
  const sorted = [...segments].sort((a, b) =>
    weight(b) - weight(a) ||
    segmentText(a.segment[dimension]).localeCompare(
      segmentText(b.segment[dimension]),
    )
  );
  const capped = sorted.slice(0, cap);
  const kept = capped.slice(0, top);
  const folded = sorted.slice(kept.length);

  const totalOf = (pick: (s: SegmentSeries) => SegmentMeasure | null) =>
    combine(method, segments.map(pick));
  const total = totalOf((s) => s.current);

  const rowOf = (
    segment: Segment,
    current: SegmentMeasure | null,
    previous: Partial<Record<ComparisonCode, SegmentMeasure | null>>,
  ): BreakdownRow => {
    const comparisons: Partial<Record<ComparisonCode, ComparisonResult>> = {};
    for (const code of codes) {
      comparisons[code] = compare(
        valueOf(method, current),
        valueOf(method, previous[code] ?? null),
        { polarity, previousPeriod: bases[code] as Period },
      );
    }
    return {
      segment,
      value: valueOf(method, current),
      share: shareOf(method, current, total),
      comparisons,
    };
  };

  const rows = kept.map((s) => rowOf(s.segment, s.current, s.previous));
  if (folded.length > 0) {
    const previous: Partial<Record<ComparisonCode, SegmentMeasure | null>> = {};
    for (const code of codes) {
      previous[code] = combine(
        method,
        folded.map((s) => s.previous[code] ?? null),
      );
    }
    const row = rowOf(
      { [dimension]: OTHER_SEGMENT },
      combine(method, folded.map((s) => s.current)),
      previous,
    );
    row.other = folded.length;
    rows.push(row);
  }
  return {
    dimension,
    rows,
    segments: segments.length,
    cut: sorted.length > cap
      ? { limit: cap, segments: sorted.length, cut: sorted.length - cap }
      : null,
  };
}

function segmentText(value: string | null | undefined): string {
  return value ?? "\uffff";
}

/** A segment's value as shown: missing rows count as 0 for additive KPIs. */
function valueOf(
  method: AttributionMethod | null,
  measure: SegmentMeasure | null,
): number | null {
  if (measure === null) return method === "additive" ? 0 : null;
  return measure.value;
}

function shareOf(
  method: AttributionMethod | null,
  measure: SegmentMeasure | null,
  total: SegmentMeasure | null,
): number | null {
  if (method === null || total === null) return null;
  const part = method === "ratio"
    ? measure?.denominator ?? 0
    : measure?.value ?? 0;
  const whole = method === "ratio" ? total.denominator : total.value;
  if (whole === null || whole === 0) return null;
  return cleanNumber(part / whole);
}

/**
 * The measure of several segments together: values add (exactly, as
 * decimals) for additive KPIs, ratios re-divide; null for KPIs whose
 * segments do not add up, or when no segment had rows.
 */
export function combine(
  method: AttributionMethod | null,
  measures: readonly (SegmentMeasure | null)[],
): SegmentMeasure | null {
  const present = measures.filter((m): m is SegmentMeasure => m !== null);
  if (method === null) {
    return present.length === 1 && measures.length === 1
      ? present[0] as SegmentMeasure
      : null;
  }
  if (present.length === 0) {
    return method === "additive"
      ? { value: 0, numerator: 0, denominator: 0 }
      : null;
  }
  const numerator = decimalSum(present.map((m) => m.numerator));
  const denominator = decimalSum(present.map((m) => m.denominator));
  const value = method === "additive"
    ? numerator
    : denominator === 0
    ? null
    : cleanNumber(numerator / denominator);
  return { value, numerator, denominator };
}
