/**
 * Change attribution: how much of a KPI's change between two periods each
 * segment accounts for.
 *
 * - Additive KPIs (sums, counts): a segment's contribution is its own
 *   change. Values are counted exactly as decimals, so the contributions
 *   add up to the total change exactly (to the cent for cents).
 * - Ratios (`avg`, `rate`, derived `a / b`): the total is
 *   `R = Σ wᵢ rᵢ` with weight `wᵢ = Dᵢ / D` and ratio `rᵢ = Nᵢ / Dᵢ`. Each
 *   segment's part of `ΔR` is split symmetrically (the same whichever
 *   period is taken as the base):
 *   rate effect `w̄ᵢ Δrᵢ` (its own ratio moved) and mix effect
 *   `Δwᵢ (r̄ᵢ − R̄)` (its weight moved, counted against the average ratio
 *   `R̄`, so that gaining weight helps only a segment above average), with
 *   `x̄` the mean of the two periods. A segment that appears or vanishes
 *   keeps its one ratio in both periods: all of its part is mix. These
 *   parts add up to `ΔR` algebraically; they are rounded to 12 significant
 *   digits of the ratio with the largest remainder method, so that they
 *   also add up exactly as decimals.
 * - Across several dimensions the finest segments (every combination of
 *   the dimensions) carry the contributions; one dimension's slices sum
 *   them. Slices of all dimensions are ranked together and taken greedily
 *   while each still adds at least 1% of the change beyond the slices
 *   taken before (overlapping slices are not counted
 *   twice): at each step the slice that adds most to what the slices
 *   already taken explain. What they leave is `unexplained`.
 *
 * @module
 */

import { cleanNumber } from "../_numbers.ts";
import { apportion, commonScale, fromUnits, toUnits } from "./_exact.ts";
import type {
  AttributionMethod,
  Driver,
  Segment,
  SegmentMeasure,
} from "./types.ts";

/** One finest segment's measures in the two periods. */
export interface ChangeCell {
  /** The segment, by every dimension. */
  segment: Segment;
  /** Its measure in the period, or null when it had no rows. */
  current: SegmentMeasure | null;
  /** Its measure in the earlier period, or null when it had no rows. */
  previous: SegmentMeasure | null;
}

/** Options of {@linkcode attributeChange}. */
export interface AttributeChangeOptions {
  /** How segments combine. */
  method: AttributionMethod;
  /** The dimensions whose slices are ranked. */
  dimensions: readonly string[];
  /** Most drivers listed. @default 5 */
  top?: number;
  /**
   * Least part of the change a slice must add (beyond the slices already
   * taken) to be listed, in percent. @default 1
   */
  minPct?: number;
}

/** The attribution of a change. */
export interface Attribution {
  /** The value in the period. */
  value: number | null;
  /** The value in the earlier period. */
  previousValue: number | null;
  /** The total change: the exact sum of every segment's contribution. */
  change: number | null;
  /** The slices that explain most, largest first. */
  drivers: Driver[];
  /** What the listed drivers leave unexplained. */
  unexplained: number | null;
  /** Why there is no attribution, or null. */
  note: string | null;
}

interface Parts {
  scale: number;
  total: bigint;
  contribution: bigint[];
  rate: bigint[] | null;
  mix: bigint[] | null;
  value: number | null;
  previousValue: number | null;
}

/**
 * Attributes a KPI's change between two periods to its segments and ranks
 * the slices of each dimension (see the module documentation for the
 * method).
 *
 * @param cells The finest segments (by every dimension) with both periods.
 * @param options Method, dimensions, how many drivers and the threshold.
 * @returns The change, the drivers and what they leave unexplained.
 * @throws {RangeError} When `top` is not a whole number of at least 1.
 *
 * @example A ratio: rate and mix effects add up to the change
 * ```ts
 * import assert from "node:assert/strict";
 * const m = (numerator: number, denominator: number) =>
 *   ({ value: numerator / denominator, numerator, denominator });
 * const result = attributeChange([
 *   { segment: { region: "A" }, previous: m(50, 100), current: m(90, 150) },
 *   { segment: { region: "B" }, previous: m(20, 100), current: m(10, 50) },
 * ], { method: "ratio", dimensions: ["region"] });
 * assert.equal(result.change, 0.15);
 * const [a, b] = result.drivers;
 * assert.deepEqual([a?.rateEffect, a?.mixEffect, a?.contribution], [0.0625, 0.03125, 0.09375]);
 * assert.deepEqual([b?.rateEffect, b?.mixEffect, b?.contribution], [0, 0.05625, 0.05625]);
 * ```
 */
export function attributeChange(
  cells: readonly ChangeCell[],
  options: AttributeChangeOptions,
): Attribution {
  const top = options.top ?? 5;
  if (!Number.isInteger(top) || top < 1) {
    throw new RangeError(
      `Invalid top ${top}: expected a whole number of at least 1`,
    );
  }
  const minPct = options.minPct ?? 1;
  const parts = options.method === "additive"
    ? additiveParts(cells)
    : ratioParts(cells);
  if (typeof parts === "string") {
    return {
      value: null,
      previousValue: null,
      change: null,
      drivers: [],
      unexplained: null,
      note: parts,
    };
  }
  const { scale, total } = parts;
  const number = (units: bigint) => fromUnits(units, scale);
  const pct = (units: bigint): number | null =>
    total === 0n ? null : cleanNumber(Number(units) / Number(total) * 100);

  // Slices of every dimension, each the set of cells it holds.
  interface Slice {
    segment: Segment;
    cells: number[];
    units: bigint;
  }
  const slices: Slice[] = [];
  for (const dimension of options.dimensions) {
    const byValue = new Map<string, Slice>();
    cells.forEach((cell, i) => {
      const value = cell.segment[dimension] ?? null;
      const key = value === null ? "\u0000null" : `=${value}`;
      let slice = byValue.get(key);
      if (!slice) {
        slice = { segment: { [dimension]: value }, cells: [], units: 0n };
        byValue.set(key, slice);
        slices.push(slice);
      }
      slice.cells.push(i);
      slice.units += parts.contribution[i] as bigint;
    });
  }
  const magnitude = (u: bigint) => (u < 0n ? -u : u);

  const covered = new Set<number>();
  let explained = 0n;
  const threshold = magnitude(total) * BigInt(Math.round(minPct * 1000)) /
    100_000n;
  const drivers: Driver[] = [];
  const left = [...slices];
  while (drivers.length < top && left.length > 0) {
    // Greedy: the slice adding most beyond the slices taken; on a tie the
    // one that overlaps them least.
    let best = -1;
    let bestGain = 0n;
    left.forEach((slice, k) => {
      let gain = 0n;
      for (const i of slice.cells) {
        if (!covered.has(i)) gain += parts.contribution[i] as bigint;
      }
      const better = best === -1 ||
        magnitude(gain) > magnitude(bestGain) ||
        (magnitude(gain) === magnitude(bestGain) &&
          magnitude(slice.units - gain) <
            magnitude((left[best] as Slice).units - bestGain));
      if (better) {
        best = k;
        bestGain = gain;
      }
    });
    const slice = left.splice(best, 1)[0] as Slice;
    if (
      slice.units === 0n || magnitude(bestGain) < threshold || bestGain === 0n
    ) {
      break;
    }
    for (const i of slice.cells) covered.add(i);
    explained += bestGain;
    const driver: Driver = {
      segment: slice.segment,
      contribution: number(slice.units),
      contributionPct: pct(slice.units),
      value: null,
      previousValue: null,
    };
    if (parts.rate && parts.mix) {
      const rate = parts.rate;
      const mix = parts.mix;
      driver.rateEffect = number(
        slice.cells.reduce((a, i) => a + (rate[i] as bigint), 0n),
      );
      driver.mixEffect = number(
        slice.cells.reduce((a, i) => a + (mix[i] as bigint), 0n),
      );
    }
    const measures = (pick: (c: ChangeCell) => SegmentMeasure | null) =>
      sliceValue(options.method, slice.cells.map((i) => pick(cells[i]!)));
    driver.value = measures((c) => c.current);
    driver.previousValue = measures((c) => c.previous);
    drivers.push(driver);
  }
  return {
    value: parts.value,
    previousValue: parts.previousValue,
    change: number(total),
    drivers,
    unexplained: number(total - explained),
    note: null,
  };
}

function sliceValue(
  method: AttributionMethod,
  measures: readonly (SegmentMeasure | null)[],
): number | null {
  let numerator = 0;
  let denominator = 0;
  let any = false;
  for (const m of measures) {
    if (m === null) continue;
    any = true;
    numerator += m.numerator;
    denominator += m.denominator;
  }
  if (method === "additive") return any ? cleanNumber(numerator) : 0;
  return denominator === 0 ? null : cleanNumber(numerator / denominator);
}

function additiveParts(cells: readonly ChangeCell[]): Parts {
  const values: number[] = [];
  for (const cell of cells) {
    values.push(cell.current?.numerator ?? 0, cell.previous?.numerator ?? 0);
  }
  const scale = commonScale(values);
  let now = 0n;
  let before = 0n;
  const contribution = cells.map((cell) => {
    const a = toUnits(cell.current?.numerator ?? 0, scale);
    const b = toUnits(cell.previous?.numerator ?? 0, scale);
    now += a;
    before += b;
    return a - b;
  });
  return {
    scale,
    total: now - before,
    contribution,
    rate: null,
    mix: null,
    value: fromUnits(now, scale),
    previousValue: fromUnits(before, scale),
  };
}

/** Significant digits a ratio's parts are rounded to. */
const RATIO_DIGITS = 12;

function ratioParts(cells: readonly ChangeCell[]): Parts | string {
  let n0 = 0, d0 = 0, n1 = 0, d1 = 0;
  for (const cell of cells) {
    n0 += cell.previous?.numerator ?? 0;
    d0 += cell.previous?.denominator ?? 0;
    n1 += cell.current?.numerator ?? 0;
    d1 += cell.current?.denominator ?? 0;
  }
  if (d0 === 0 || d1 === 0) {
    return `The ratio has no ${
      d1 === 0 ? "value in the period" : "value in the earlier period"
    } (its denominator is 0), so its change cannot be attributed`;
  }
  const r0 = n0 / d0;
  const r1 = n1 / d1;
  const largest = Math.max(Math.abs(r0), Math.abs(r1));
  const scale = largest === 0
    ? RATIO_DIGITS
    : RATIO_DIGITS - 1 - Math.floor(Math.log10(largest));
  const factor = 10 ** scale;
  const at = (x: number) => BigInt(Math.round(x * factor));
  const total = at(r1) - at(r0);
  const mean = (r0 + r1) / 2;
  const raw: number[] = [];
  for (const cell of cells) {
    const w0 = (cell.previous?.denominator ?? 0) / d0;
    const w1 = (cell.current?.denominator ?? 0) / d1;
    const has0 = (cell.previous?.denominator ?? 0) !== 0;
    const has1 = (cell.current?.denominator ?? 0) !== 0;
    let rate0 = has0
      ? (cell.previous as SegmentMeasure).numerator /
        (cell.previous as SegmentMeasure).denominator
      : 0;
    let rate1 = has1
      ? (cell.current as SegmentMeasure).numerator /
        (cell.current as SegmentMeasure).denominator
      : 0;
    if (!has0) rate0 = rate1;
    if (!has1) rate1 = rate0;
    const rateEffect = (w0 + w1) / 2 * (rate1 - rate0);
    const mixEffect = (w1 - w0) * ((rate0 + rate1) / 2 - mean);
    raw.push(rateEffect * factor, mixEffect * factor);
  }
  const rounded = apportion(raw, total);
  const rate = cells.map((_, i) => rounded[2 * i] as bigint);
  const mix = cells.map((_, i) => rounded[2 * i + 1] as bigint);
  return {
    scale,
    total,
    contribution: rate.map((r, i) => r + (mix[i] as bigint)),
    rate,
    mix,
    value: cleanNumber(r1),
    previousValue: cleanNumber(r0),
  };
}
