/**
 * Private: folds one value column over many time ranges in one pass, the
 * in-memory side of a series. The ranges' ends cut time into elementary
 * pieces; each row lands in its piece (through a grid of equal cells, or by
 * slicing a sorted column), and each range adds up the pieces it covers. Sums, counts
 * and the latest value combine exactly from pieces, so a 28-day window over
 * daily buckets costs 28 additions, not a pass over the rows.
 *
 * @module
 */

import type { RangeFold, TimeColumn } from "../dataframe/_fold_ranges.ts";
import { foldSlice, lowerBound } from "../dataframe/_fold_ranges.ts";

/** Above this many ranges, a fold goes through the pieces. */
export const MANY_RANGES = 6;

/**
 * Folds `values` (or a count of rows when null) over each range
 * `[starts[r], ends[r])` of `times` in one pass over the rows. Without
 * `needLatest`, the latest value of a range is not tracked on unsorted rows
 * (its `latest()` is then meaningless). Its parameters are those of
 * `foldRanges`, which hands it every fold of more than
 * {@linkcode MANY_RANGES} ranges.
 */
export function foldBuckets(
  times: TimeColumn,
  values: ArrayLike<number> | null,
  starts: readonly number[],
  ends: readonly number[],
  sorted: boolean,
  needLatest = true,
): RangeFold[] {
  const bounds = [...new Set([...starts, ...ends])].sort((a, b) => a - b);
  const pieces = Math.max(0, bounds.length - 1);
  const sums = new Float64Array(pieces);
  const compensations = new Float64Array(pieces);
  const counts = new Float64Array(pieces);
  const latestTimes = new Float64Array(pieces).fill(-Infinity);
  const latestValues = new Float64Array(pieces).fill(NaN);
  if (sorted) {
    let from = lowerBound(times, bounds[0] ?? 0);
    for (let j = 0; j < pieces; j++) {
      const to = lowerBound(times, bounds[j + 1] as number);
      const piece = foldSlice(times, values, from, to);
      sums[j] = piece.sum;
      counts[j] = piece.count;
      // Pieces are in time order: any time of a piece orders it.
      latestTimes[j] = bounds[j] as number;
      latestValues[j] = piece.latest() ?? NaN;
      from = to;
    }
  } else if (pieces > 0) {
    scatter(
      times,
      values,
      bounds,
      pieceGrid(bounds),
      { sums, compensations, counts, latestTimes, latestValues },
      needLatest,
    );
  }
  const index = new Map(bounds.map((b, j) => [b, j]));
  return starts.map((start, r) => {
    const from = index.get(start) as number;
    const to = index.get(ends[r] as number) as number;
    let sum = 0;
    let compensation = 0;
    let count = 0;
    let latest: number | null = null;
    let latestTime = -Infinity;
    for (let j = from; j < to; j++) {
      const v = (sums[j] as number) + (compensations[j] as number);
      const next = sum + v;
      compensation += Math.abs(sum) >= Math.abs(v)
        ? (sum - next) + v
        : (v - next) + sum;
      sum = next;
      count += counts[j] as number;
      if ((counts[j] as number) > 0 && latestTimes[j]! >= latestTime) {
        latestTime = latestTimes[j] as number;
        latest = latestValues[j] as number;
      }
    }
    const found = latest;
    return { sum: sum + compensation, count, latest: () => found };
  });
}

/** Per-piece accumulators. */
interface Pieces {
  sums: Float64Array;
  compensations: Float64Array;
  counts: Float64Array;
  latestTimes: Float64Array;
  latestValues: Float64Array;
}

/**
 * Adds each row of an unsorted column to its piece: the cell by arithmetic,
 * its piece from the grid, a binary search only in a cell cut by a bound.
 * (A function of its own: the hot loop then reads its arrays from
 * registers, not from a closure's context.)
 */
function scatter(
  times: TimeColumn,
  values: ArrayLike<number> | null,
  bounds: readonly number[],
  grid: { cells: Int32Array; width: number },
  into: Pieces,
  needLatest: boolean,
): void {
  const { cells, width } = grid;
  const { sums, compensations, counts, latestTimes, latestValues } = into;
  const pieces = bounds.length - 1;
  const first = bounds[0] as number;
  const last = bounds[pieces] as number;
  const n = times.length;
  for (let i = 0; i < n; i++) {
    const t = times[i] as number;
    if (!(t >= first && t < last)) continue;
    const v = values === null ? 1 : values[i] as number;
    if (v !== v) continue;
    // Both steps written out, as in the time index's `addToBuckets`, not
    // through cellOf and addCompensated: with them this loop took 95-101 ms
    // instead of 79 ms on 10 M rows into 730 days.
    let c = Math.floor((t - first) / width);
    // The division may round up onto the next edge: the edge decides.
    if (first + c * width > t) c--;
    let j = cells[c] as number;
    if (j < 0) {
      let lo = 0;
      let hi = pieces;
      while (hi - lo > 1) {
        const mid = (lo + hi) >>> 1;
        if (t < (bounds[mid] as number)) hi = mid;
        else lo = mid;
      }
      j = lo;
    }
    const sum = sums[j] as number;
    const next = sum + v;
    compensations[j] = (compensations[j] as number) +
      (Math.abs(sum) >= Math.abs(v) ? (sum - next) + v : (v - next) + sum);
    sums[j] = next;
    counts[j] = (counts[j] as number) + 1;
    if (needLatest && t >= (latestTimes[j] as number)) {
      latestTimes[j] = t;
      latestValues[j] = v;
    }
  }
}

/** Fifteen minutes: every UTC offset in use is a multiple of it. */
const QUARTER_HOUR = 15 * 60 * 1000;

/** Most cells of a piece grid (4 bytes each). */
const MOST_CELLS = 1 << 20;

/**
 * A uniform grid over `[bounds[0], bounds[last])` mapping each cell to the
 * piece that holds it whole, or -1 where a bound cuts the cell. The cells
 * are as wide as the largest whole number of milliseconds that divides
 * every piece (a day for daily buckets in UTC, an hour across DST changes),
 * so the grid stays small; where that would make too many cells, a quarter
 * of an hour doubled until they fit, and cells cut by a bound are searched.
 */
function pieceGrid(
  bounds: readonly number[],
): { cells: Int32Array; width: number } {
  const first = bounds[0] as number;
  const span = (bounds[bounds.length - 1] as number) - first;
  let width = 0;
  for (let j = 1; j < bounds.length && width !== 1; j++) {
    const step = (bounds[j] as number) - (bounds[j - 1] as number);
    if (!Number.isInteger(step)) {
      width = 1;
      break;
    }
    width = gcd(width, step);
  }
  if (width < QUARTER_HOUR || span / width > MOST_CELLS) {
    width = QUARTER_HOUR;
    while (span / width > MOST_CELLS) width *= 2;
  }
  const count = Math.max(1, Math.ceil(span / width));
  const cells = new Int32Array(count);
  let j = 0;
  for (let c = 0; c < count; c++) {
    const from = first + c * width;
    const to = from + width;
    while (j + 1 < bounds.length - 1 && (bounds[j + 1] as number) <= from) j++;
    cells[c] = to <= (bounds[j + 1] as number) ? j : -1;
  }
  return { cells, width };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
