/**
 * The numeric kernel of the in-memory source: folds one value column over
 * several half-open time ranges at once, with compensated (Neumaier) sums so
 * that long columns of cents add up to the cent.
 */

import { foldBuckets, MANY_RANGES } from "../series/_fold_buckets.ts";
import { bucketsOf, type BucketTotals, type TimeIndex } from "./_time_index.ts";
import { addCompensated } from "./_grid.ts";

/** What one range accumulated. */
export interface RangeFold {
  /** Compensated sum of the non-missing values. */
  sum: number;
  /** How many values were not missing. */
  count: number;
  /** The value at the latest time in the range (null if none), computed on demand. */
  latest: () => number | null;
}

/** A time column: epoch milliseconds, NaN where missing. */
export type TimeColumn = ArrayLike<number>;

/**
 * Folds `values` (or a count of rows, when `values` is null) over each range
 * `[starts[r], ends[r])` of `times`. With `sorted` the rows are in time
 * order and only the slices in range are read. More than
 * {@linkcode MANY_RANGES} ranges go to `foldBuckets` (a series), which
 * takes the same parameters.
 */
export function foldRanges(
  times: TimeColumn,
  values: ArrayLike<number> | null,
  starts: readonly number[],
  ends: readonly number[],
  sorted: boolean,
  needCount = true,
  needLatest = true,
): RangeFold[] {
  if (starts.length > MANY_RANGES) {
    return foldBuckets(times, values, starts, ends, sorted, needLatest);
  }
  return sorted
    ? starts.map((start, r) =>
      foldSlice(
        times,
        values,
        lowerBound(times, start),
        lowerBound(times, ends[r] ?? start),
      )
    )
    : foldUnsorted(times, values, starts, ends, needCount);
}

/**
 * Folds over each range through a time index (see `_time_index.ts`): the
 * buckets a range covers whole add their totals, and only the rows of the
 * (at most two) buckets cut by its edges are read, through the index's row
 * numbers, and masked.
 */
export function foldIndexed(
  index: TimeIndex,
  times: TimeColumn,
  values: ArrayLike<number> | null,
  totals: BucketTotals | null,
  starts: readonly number[],
  ends: readonly number[],
): RangeFold[] {
  const { starts: rowsFrom } = index;
  const out: RangeFold[] = [];
  // [sum, compensation, count], reset per range.
  const acc = new Float64Array(3);
  for (let r = 0; r < starts.length; r++) {
    const lo = starts[r] as number;
    const hi = ends[r] as number;
    const { first, fullFrom, fullTo, last } = bucketsOf(index, lo, hi);
    acc.fill(0);
    if (fullFrom >= fullTo) {
      addRows(index, times, values, first, last, lo, hi, acc);
    } else {
      addRows(index, times, values, first, fullFrom, lo, hi, acc);
      if (totals === null) {
        const rows = (rowsFrom[fullTo] as number) -
          (rowsFrom[fullFrom] as number);
        acc[0] = (acc[0] as number) + rows;
        acc[2] = (acc[2] as number) + rows;
      } else addBuckets(totals, fullFrom, fullTo, acc);
      addRows(index, times, values, fullTo, last, lo, hi, acc);
    }
    const count = acc[2] as number;
    out.push({
      sum: values === null ? count : (acc[0] as number) + (acc[1] as number),
      count,
      latest: () => latestIndexed(index, times, values, first, last, lo, hi),
    });
  }
  return out;
}

/**
 * Adds the rows in range of buckets `[from, to)`, each checked, to `acc`.
 *
 * The compensated step is written out here and in `addBuckets` (and in the
 * piece sums of `series/_fold_buckets.ts`) instead of calling
 * `addCompensated`: the running sum stays in local variables through the
 * loop. Through `addCompensated` on one-element arrays, 70,080 bucket totals
 * (two years of 15-minute buckets) took 519 µs instead of 95 µs.
 */
function addRows(
  index: TimeIndex,
  times: TimeColumn,
  values: ArrayLike<number> | null,
  from: number,
  to: number,
  lo: number,
  hi: number,
  acc: Float64Array,
): void {
  const { order, starts } = index;
  let sum = acc[0] as number;
  let compensation = acc[1] as number;
  let count = acc[2] as number;
  const end = starts[to] as number;
  for (let p = starts[from] as number; p < end; p++) {
    const i = order[p] as number;
    const t = times[i] as number;
    if (!(t >= lo && t < hi)) continue;
    const v = values === null ? 1 : values[i] as number;
    if (v !== v) continue;
    const next = sum + v;
    compensation += Math.abs(sum) >= Math.abs(v)
      ? (sum - next) + v
      : (v - next) + sum;
    sum = next;
    count++;
  }
  acc[0] = sum;
  acc[1] = compensation;
  acc[2] = count;
}

/**
 * Adds the totals of buckets `[from, to)` to `acc`: their sums with
 * compensation, their own compensations (a few ulps each) plainly. The
 * compensated step is written out, as in `addRows`, to keep the sum in
 * local variables (5× faster than through `addCompensated`).
 */
function addBuckets(
  totals: BucketTotals,
  from: number,
  to: number,
  acc: Float64Array,
): void {
  const { sums, compensations, counts } = totals;
  let sum = acc[0] as number;
  let compensation = acc[1] as number;
  let count = acc[2] as number;
  for (let b = from; b < to; b++) {
    const v = sums[b] as number;
    const next = sum + v;
    compensation +=
      (Math.abs(sum) >= Math.abs(v) ? (sum - next) + v : (v - next) + sum) +
      (compensations[b] as number);
    sum = next;
    count += counts[b] as number;
  }
  acc[0] = sum;
  acc[1] = compensation;
  acc[2] = count;
}

/**
 * The value at the latest time in `[lo, hi)` through a time index: buckets
 * are in time order, so it is in the last bucket (of `[first, last)`) that
 * has a row in range; within a bucket rows are in row order, so of rows at
 * the same time the later row wins.
 */
function latestIndexed(
  index: TimeIndex,
  times: TimeColumn,
  values: ArrayLike<number> | null,
  first: number,
  last: number,
  lo: number,
  hi: number,
): number | null {
  const { order, starts: rowsFrom } = index;
  for (let b = last - 1; b >= first; b--) {
    let found: number | null = null;
    let foundTime = -Infinity;
    const to = rowsFrom[b + 1] as number;
    for (let p = rowsFrom[b] as number; p < to; p++) {
      const i = order[p] as number;
      const t = times[i] as number;
      if (!(t >= lo && t < hi)) continue;
      const v = values === null ? 1 : values[i] as number;
      if (v !== v) continue;
      if (t >= foundTime) {
        foundTime = t;
        found = v;
      }
    }
    if (found !== null) return found;
  }
  return null;
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

/**
 * Folds the rows `[from, to)` of a column in time order: short blocks summed
 * plainly, the block sums added with compensation; the latest value is the
 * last one not missing.
 */
export function foldSlice(
  _times: TimeColumn,
  values: ArrayLike<number> | null,
  from: number,
  to: number,
): RangeFold {
  if (values === null) {
    return {
      sum: to - from,
      count: to - from,
      latest: () => to > from ? 1 : null,
    };
  }
  const sums = new CompensatedSums(1);
  let count = 0;
  for (let i = from; i < to;) {
    const stop = Math.min(to, i + BLOCK);
    let block = 0;
    for (; i < stop; i++) {
      const v = values[i] as number;
      const present = +(v === v);
      block += present ? v : 0;
      count += present;
    }
    sums.add(0, block);
  }
  return {
    sum: sums.total(0),
    count,
    // Rows are in time order: the latest is the last non-missing value.
    latest: () => {
      for (let i = to - 1; i >= from; i--) {
        const v = values[i] as number;
        if (v === v) return v;
      }
      return null;
    },
  };
}

function foldUnsorted(
  times: TimeColumn,
  values: ArrayLike<number> | null,
  starts: readonly number[],
  ends: readonly number[],
  needCount: boolean,
): RangeFold[] {
  const out: RangeFold[] = [];
  for (let r = 0; r < starts.length; r += 3) {
    const lo = [starts[r], starts[r + 1], starts[r + 2]];
    const hi = [ends[r], ends[r + 1], ends[r + 2]];
    let folds = values !== null && !needCount
      ? sumThreeBranchless(times, values, lo, hi)
      : null;
    // A missing value (NaN) spoils the plain sums: fold again with checks.
    if (folds === null || folds.some((fold) => fold.sum !== fold.sum)) {
      folds = foldThreeBranchless(times, values, lo, hi);
    }
    for (let k = 0; k < 3 && r + k < starts.length; k++) {
      out.push(folds[k] as RangeFold);
    }
  }
  return out;
}

/**
 * Three ranges in one pass without branches in the loop (rows fall in a
 * range at random when the column is shuffled, which defeats branch
 * prediction), with compensated sums; a missing value (NaN) adds nothing
 * and is not counted. Unused ranges are given as undefined and come out
 * empty.
 */
function foldThreeBranchless(
  times: TimeColumn,
  values: ArrayLike<number> | null,
  lo: (number | undefined)[],
  hi: (number | undefined)[],
): RangeFold[] {
  const lo0 = lo[0] ?? 0, hi0 = hi[0] ?? 0;
  const lo1 = lo[1] ?? 0, hi1 = hi[1] ?? 0;
  const lo2 = lo[2] ?? 0, hi2 = hi[2] ?? 0;
  const sums = new CompensatedSums(3);
  let n0 = 0, n1 = 0, n2 = 0;
  const n = times.length;
  // The masked three-range update below is repeated, on purpose, in
  // foldRows (which reads row objects) and, without counts, in
  // sumThreeBranchless (11 ms against 17 ms on 4 M rows): each loop is
  // specialised to what it reads, and a shared helper called per row costs
  // the hot loop a function call (see bench/in_memory_bench.ts).
  for (let i = 0; i < n;) {
    const stop = Math.min(n, i + BLOCK);
    let b0 = 0, b1 = 0, b2 = 0;
    for (; i < stop; i++) {
      const t = times[i] as number;
      const raw = values === null ? 1 : values[i] as number;
      const ok = +(raw === raw);
      const v = ok ? raw : 0;
      const m0 = +(t >= lo0) * +(t < hi0);
      const m1 = +(t >= lo1) * +(t < hi1);
      const m2 = +(t >= lo2) * +(t < hi2);
      b0 += v * m0;
      b1 += v * m1;
      b2 += v * m2;
      n0 += m0 * ok;
      n1 += m1 * ok;
      n2 += m2 * ok;
    }
    sums.add(0, b0);
    sums.add(1, b1);
    sums.add(2, b2);
  }
  const latestOf = (k: number): () => number | null => {
    const from = lo[k], to = hi[k];
    if (from === undefined || to === undefined) return () => null;
    return () => latestIn(times, values, from, to);
  };
  return [
    { sum: sums.total(0), count: n0, latest: latestOf(0) },
    { sum: sums.total(1), count: n1, latest: latestOf(1) },
    { sum: sums.total(2), count: n2, latest: latestOf(2) },
  ];
}

/**
 * Sums only (no counts), for columns without missing values: the fewest
 * operations per row. A NaN anywhere makes a sum NaN, and the caller folds
 * again with {@linkcode foldThreeBranchless}. It repeats that function's
 * loop without the counts and the missing-value checks on purpose: on 4 M
 * shuffled rows and three ranges it took 11 ms against 17 ms.
 */
function sumThreeBranchless(
  times: TimeColumn,
  values: ArrayLike<number>,
  lo: (number | undefined)[],
  hi: (number | undefined)[],
): RangeFold[] {
  const lo0 = lo[0] ?? 0, hi0 = hi[0] ?? 0;
  const lo1 = lo[1] ?? 0, hi1 = hi[1] ?? 0;
  const lo2 = lo[2] ?? 0, hi2 = hi[2] ?? 0;
  const sums = new CompensatedSums(3);
  const n = times.length;
  for (let i = 0; i < n;) {
    const stop = Math.min(n, i + BLOCK);
    let b0 = 0, b1 = 0, b2 = 0;
    for (; i < stop; i++) {
      const t = times[i] as number;
      const v = values[i] as number;
      b0 += v * (+(t >= lo0) * +(t < hi0));
      b1 += v * (+(t >= lo1) * +(t < hi1));
      b2 += v * (+(t >= lo2) * +(t < hi2));
    }
    sums.add(0, b0);
    sums.add(1, b1);
    sums.add(2, b2);
  }
  const latest = () => null;
  return [
    { sum: sums.total(0), count: NaN, latest },
    { sum: sums.total(1), count: NaN, latest },
    { sum: sums.total(2), count: NaN, latest },
  ];
}

/**
 * Rows are summed plainly in blocks of this many, and the block sums added
 * with compensation: the inner loop stays short of registers and fast, and
 * the error stays far below a cent on ten million rows. (Longer blocks are
 * faster but let a million equal cents drift by a few units in the last
 * place, past what `cleanNumber` removes.)
 */
const BLOCK = 32;

/** Neumaier-compensated running sums. */
class CompensatedSums {
  readonly #sums: Float64Array;
  readonly #compensations: Float64Array;

  constructor(size: number) {
    this.#sums = new Float64Array(size);
    this.#compensations = new Float64Array(size);
  }

  add(k: number, value: number): void {
    addCompensated(this.#sums, this.#compensations, k, value);
  }

  total(k: number): number {
    return (this.#sums[k] as number) + (this.#compensations[k] as number);
  }
}

/**
 * The value at the latest time in `[from, to)`, ties going to the later row.
 * `latestIndexed` (rows through a time index, bucket by bucket) and
 * `latestRow` (cells of row objects) keep the same rule over rows read
 * another way; only `last` calls them, once per range, so they stay three
 * plain loops rather than one loop over a row-reading callback.
 */
function latestIn(
  times: TimeColumn,
  values: ArrayLike<number> | null,
  from: number,
  to: number,
): number | null {
  let last: number | null = null;
  let lastTime = -Infinity;
  for (let i = 0; i < times.length; i++) {
    const t = times[i] as number;
    if (!(t >= from && t < to)) continue;
    const v = values === null ? 1 : values[i] as number;
    if (v !== v) continue;
    if (t >= lastTime) {
      lastTime = t;
      last = v;
    }
  }
  return last;
}

/** Reads one cell of a row as a number (NaN when missing). */
export type CellReader = (cell: unknown) => number;

/**
 * Folds an array of row objects over up to three ranges in one pass,
 * reading each row's time and value cells directly (no intermediate
 * columns). Ranges beyond three are folded in further passes.
 */
export function foldRows(
  rows: readonly Record<string, unknown>[],
  timeName: string,
  readTime: CellReader,
  valueName: string | null,
  readValue: CellReader,
  starts: readonly number[],
  ends: readonly number[],
  trackLast: boolean,
): RangeFold[] {
  const out: RangeFold[] = [];
  for (let r = 0; r < starts.length; r += 3) {
    const lo0 = starts[r] ?? 0, hi0 = ends[r] ?? 0;
    const lo1 = starts[r + 1] ?? 0, hi1 = ends[r + 1] ?? 0;
    const lo2 = starts[r + 2] ?? 0, hi2 = ends[r + 2] ?? 0;
    const sums = new CompensatedSums(3);
    let n0 = 0, n1 = 0, n2 = 0;
    const n = rows.length;
    // The same masked update as foldThreeBranchless, kept inline for speed.
    for (let i = 0; i < n;) {
      const stop = Math.min(n, i + BLOCK);
      let b0 = 0, b1 = 0, b2 = 0;
      for (; i < stop; i++) {
        const row = rows[i] as Record<string, unknown>;
        const timeCell = row[timeName];
        const t = typeof timeCell === "number" ? timeCell : readTime(timeCell);
        let v = 1;
        if (valueName !== null) {
          const cell = row[valueName];
          v = typeof cell === "number" ? cell : readValue(cell);
          if (v !== v) continue;
        }
        const m0 = +(t >= lo0) * +(t < hi0);
        const m1 = +(t >= lo1) * +(t < hi1);
        const m2 = +(t >= lo2) * +(t < hi2);
        b0 += v * m0;
        b1 += v * m1;
        b2 += v * m2;
        n0 += m0;
        n1 += m1;
        n2 += m2;
      }
      sums.add(0, b0);
      sums.add(1, b1);
      sums.add(2, b2);
    }
    const bounds = [[lo0, hi0], [lo1, hi1], [lo2, hi2]] as const;
    const counts = [n0, n1, n2];
    for (let k = 0; k < 3 && r + k < starts.length; k++) {
      const [from, to] = bounds[k]!;
      out.push({
        sum: sums.total(k),
        count: counts[k]!,
        latest: () =>
          trackLast && counts[k]! > 0
            ? latestRow(
              rows,
              timeName,
              readTime,
              valueName,
              readValue,
              from,
              to,
            )
            : null,
      });
    }
  }
  return out;
}

/** The value at the latest time in `[from, to)` among rows; ties go to the later row. */
function latestRow(
  rows: readonly Record<string, unknown>[],
  timeName: string,
  readTime: CellReader,
  valueName: string | null,
  readValue: CellReader,
  from: number,
  to: number,
): number | null {
  let last: number | null = null;
  let lastTime = -Infinity;
  for (const row of rows) {
    const timeCell = row[timeName];
    const t = typeof timeCell === "number" ? timeCell : readTime(timeCell);
    if (!(t >= from && t < to)) continue;
    let v = 1;
    if (valueName !== null) {
      const cell = row[valueName];
      v = typeof cell === "number" ? cell : readValue(cell);
      if (v !== v) continue;
    }
    if (t >= lastTime) {
      lastTime = t;
      last = v;
    }
  }
  return last;
}
