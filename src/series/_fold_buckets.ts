/**
 * Private: folds one value column over many time ranges in one pass, the
 * in-memory side of a series. The ranges' ends cut time into elementary
 * pieces; each row lands in its piece (by binary search, or by slicing a
 * sorted column), and each range adds up the pieces it covers. Sums, counts
 * and the latest value combine exactly from pieces, so a 28-day window over
 * daily buckets costs 28 additions, not a pass over the rows.
 *
 * @module
 */

import type { RangeFold, TimeColumn } from "../dataframe/_fold_ranges.ts";
import { lowerBound } from "../dataframe/_fold_ranges.ts";

/** Above this many ranges, a fold goes through the pieces. */
export const MANY_RANGES = 6;

/**
 * Folds `values` (or a count of rows when null) over each range
 * `[starts[r], ends[r])` of `times` in one pass over the rows.
 */
export function foldBuckets(
  times: TimeColumn,
  values: ArrayLike<number> | null,
  starts: readonly number[],
  ends: readonly number[],
  sorted: boolean,
): RangeFold[] {
  const bounds = [...new Set([...starts, ...ends])].sort((a, b) => a - b);
  const pieces = Math.max(0, bounds.length - 1);
  const sums = new Float64Array(pieces);
  const compensations = new Float64Array(pieces);
  const counts = new Float64Array(pieces);
  const latestTimes = new Float64Array(pieces).fill(-Infinity);
  const latestValues = new Float64Array(pieces).fill(NaN);
  const add = (j: number, v: number) => {
    const sum = sums[j] as number;
    const next = sum + v;
    compensations[j] = (compensations[j] as number) +
      (Math.abs(sum) >= Math.abs(v) ? (sum - next) + v : (v - next) + sum);
    sums[j] = next;
  };
  if (sorted) {
    let from = lowerBound(times, bounds[0] ?? 0);
    for (let j = 0; j < pieces; j++) {
      const to = lowerBound(times, bounds[j + 1] as number);
      if (values === null) {
        sums[j] = to - from;
        counts[j] = to - from;
        if (to > from) {
          latestTimes[j] = times[to - 1] as number;
          latestValues[j] = 1;
        }
      } else {
        let count = 0;
        for (let i = from; i < to;) {
          const stop = Math.min(to, i + 32);
          let block = 0;
          for (; i < stop; i++) {
            const v = values[i] as number;
            const present = +(v === v);
            block += present ? v : 0;
            count += present;
          }
          add(j, block);
        }
        counts[j] = count;
        for (let i = to - 1; i >= from; i--) {
          const v = values[i] as number;
          if (v === v) {
            latestTimes[j] = times[i] as number;
            latestValues[j] = v;
            break;
          }
        }
      }
      from = to;
    }
  } else if (pieces > 0) {
    const first = bounds[0] as number;
    const last = bounds[pieces] as number;
    const n = times.length;
    for (let i = 0; i < n; i++) {
      const t = times[i] as number;
      if (!(t >= first && t < last)) continue;
      const v = values === null ? 1 : values[i] as number;
      if (v !== v) continue;
      // The last bound not after t.
      let lo = 0;
      let hi = pieces;
      while (hi - lo > 1) {
        const mid = (lo + hi) >>> 1;
        if (t < (bounds[mid] as number)) hi = mid;
        else lo = mid;
      }
      add(lo, v);
      counts[lo] = (counts[lo] as number) + 1;
      if (t >= (latestTimes[lo] as number)) {
        latestTimes[lo] = t;
        latestValues[lo] = v;
      }
    }
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
