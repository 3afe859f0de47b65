/**
 * The numeric kernel of the in-memory source: folds one value column over
 * several half-open time ranges at once, with compensated (Neumaier) sums so
 * that long columns of cents add up to the cent.
 */

/** What one range accumulated. */
export interface RangeFold {
  /** Compensated sum of the non-missing values. */
  sum: number;
  /** How many values were not missing. */
  count: number;
  /** The value at the latest time in the range, or NaN if none. */
  last: number;
  /** Whether any row fell in the range with a non-missing value. */
  hasLast: boolean;
}

/** A time column: epoch milliseconds, NaN where missing. */
export type TimeColumn = ArrayLike<number>;

/**
 * Folds `values` (or a count of rows, when `values` is null) over each range
 * `[starts[r], ends[r])` of `times`. With `sorted` the rows are in time
 * order and only the slices in range are read.
 */
export function foldRanges(
  times: TimeColumn,
  values: ArrayLike<number> | null,
  starts: readonly number[],
  ends: readonly number[],
  sorted: boolean,
): RangeFold[] {
  return sorted
    ? starts.map((start, r) =>
      foldSlice(
        times,
        values,
        lowerBound(times, start),
        lowerBound(times, ends[r] ?? start),
      )
    )
    : foldUnsorted(times, values, starts, ends);
}

/** First index whose time is not before `target` in a sorted column. */
export function lowerBound(times: TimeColumn, target: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether a time column is in ascending order with no missing times. */
export function isSortedTimes(times: TimeColumn): boolean {
  let previous = -Infinity;
  for (let i = 0; i < times.length; i++) {
    const t = times[i] as number;
    if (!(t >= previous)) return false;
    previous = t;
  }
  return true;
}

function foldSlice(
  times: TimeColumn,
  values: ArrayLike<number> | null,
  from: number,
  to: number,
): RangeFold {
  if (values === null) {
    return {
      sum: to - from,
      count: to - from,
      last: 1,
      hasLast: to > from,
    };
  }
  let sum = 0;
  let compensation = 0;
  let count = 0;
  let last = NaN;
  let lastTime = -Infinity;
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (v !== v) continue;
    const next = sum + v;
    compensation += Math.abs(sum) >= Math.abs(v)
      ? (sum - next) + v
      : (v - next) + sum;
    sum = next;
    count++;
    const t = times[i] as number;
    if (t >= lastTime) {
      lastTime = t;
      last = v;
    }
  }
  return { sum: sum + compensation, count, last, hasLast: count > 0 };
}

function foldUnsorted(
  times: TimeColumn,
  values: ArrayLike<number> | null,
  starts: readonly number[],
  ends: readonly number[],
): RangeFold[] {
  const ranges = starts.length;
  const sums = new Float64Array(ranges);
  const compensations = new Float64Array(ranges);
  const counts = new Float64Array(ranges);
  const lasts = new Float64Array(ranges).fill(NaN);
  const lastTimes = new Float64Array(ranges).fill(-Infinity);
  const lo = Float64Array.from(starts);
  const hi = Float64Array.from(ends);
  const n = times.length;
  for (let i = 0; i < n; i++) {
    const t = times[i] as number;
    const v = values === null ? 1 : values[i] as number;
    if (v !== v) continue;
    for (let r = 0; r < ranges; r++) {
      if (t >= (lo[r] as number) && t < (hi[r] as number)) {
        const sum = sums[r] as number;
        const next = sum + v;
        compensations[r] = (compensations[r] as number) +
          (Math.abs(sum) >= Math.abs(v) ? (sum - next) + v : (v - next) + sum);
        sums[r] = next;
        counts[r] = (counts[r] as number) + 1;
        if (t >= (lastTimes[r] as number)) {
          lastTimes[r] = t;
          lasts[r] = v;
        }
      }
    }
  }
  return starts.map((_, r) => ({
    sum: (sums[r] as number) + (compensations[r] as number),
    count: counts[r] as number,
    last: lasts[r] as number,
    hasLast: (counts[r] as number) > 0,
  }));
}
