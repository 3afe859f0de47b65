/**
 * Private: a per-array time index for in-memory tables whose rows are not in
 * time order, so that repeated runs on the same arrays read only the rows at
 * the edges of their periods.
 *
 * The index is a stable counting sort of the rows into time buckets (15
 * minutes, or a power-of-two multiple of it so that there are at most about
 * a quarter as many buckets as rows): the row numbers in bucket order and
 * where each bucket starts. Fifteen minutes divides every UTC offset in use,
 * so periods cut at midnight in any zone fall on bucket edges.
 *
 * Each value column read through the index gets the compensated sum and the
 * count of every bucket, in one pass over its rows: a range then adds the
 * totals of the buckets it covers whole and reads rows (through the row
 * numbers) only in the (at most two) buckets cut by its edges, so a repeated
 * run costs a few thousand additions per period instead of a pass over its
 * rows.
 *
 * Memory: 4 bytes per row for the index and 20 bytes per bucket (at most 5
 * bytes per row) for each value column's totals; nothing is copied per row
 * (fresh memory is slow to touch on some machines: on this project's, the
 * first write to 80 MB took a third of a second). All indexes and totals
 * together are kept under {@linkcode TIME_INDEX_BUDGET_BYTES}, the least
 * recently used dropped first; they are keyed by the arrays themselves (a
 * `WeakMap`), so they go when the arrays do.
 *
 * @module
 */

import type { TimeColumn } from "./_fold_ranges.ts";
import { cellOf } from "./_grid.ts";

/** Most bytes all time indexes and bucket totals hold together. */
export const TIME_INDEX_BUDGET_BYTES = 512 * 1024 * 1024;

/** Tables shorter than this are scanned: an index would not pay. */
export const TIME_INDEX_MIN_ROWS = 65_536;

const QUARTER_HOUR = 15 * 60 * 1000;

/** Rows of a time column grouped in time buckets. */
export interface TimeIndex {
  /** Row numbers in bucket order (rows without a time left out). */
  readonly order: Uint32Array;
  /** Where each bucket starts in `order`; one more entry than buckets. */
  readonly starts: Uint32Array;
  /** Time of the first bucket's start. */
  readonly origin: number;
  /** Width of a bucket in milliseconds. */
  readonly width: number;
  /** Length of the time column it was built from. */
  readonly length: number;
}

/** A value column's totals per bucket of a time index. */
export interface BucketTotals {
  /** Compensated sum of each bucket's non-missing values (high part). */
  readonly sums: Float64Array;
  /** The compensation of each bucket's sum (low part). */
  readonly compensations: Float64Array;
  /** How many non-missing values each bucket holds. */
  readonly counts: Uint32Array;
}

interface Entry {
  index: TimeIndex;
  /** Totals of value columns, by source array. */
  values: WeakMap<object, BucketTotals>;
}

const entries = new WeakMap<object, Entry>();
/** Least recently used first: what is held, to drop when over budget. */
const held = new Map<
  WeakRef<object>,
  { bytes: number; owner: WeakRef<object>; value: WeakRef<object> | null }
>();
let heldBytes = 0;
const seen = new WeakMap<object, number>();

/**
 * The index of a time column, building it on the second call for the same
 * array (a first run pays no more than a scan), or at once with `build`;
 * null while there is none.
 */
export function timeIndexFor(
  times: TimeColumn,
  options: { build?: boolean } = {},
): TimeIndex | null {
  const key = times as object;
  const entry = entries.get(key);
  if (entry && entry.index.length === times.length) {
    touch(key, null);
    return entry.index;
  }
  if (times.length < TIME_INDEX_MIN_ROWS) return null;
  if (!options.build && seen.get(key) !== times.length) {
    seen.set(key, times.length);
    return null;
  }
  const index = buildTimeIndex(times);
  entries.set(key, { index, values: new WeakMap() });
  hold(key, null, index.order.byteLength + index.starts.byteLength);
  return index;
}

/**
 * A value column's totals per bucket, made once (one pass over its rows) and
 * remembered.
 */
export function bucketTotals(
  times: TimeColumn,
  index: TimeIndex,
  values: ArrayLike<number>,
): BucketTotals {
  const entry = entries.get(times as object);
  const known = entry?.values.get(values as object);
  if (known) {
    touch(times as object, values as object);
    return known;
  }
  const buckets = index.starts.length - 1;
  const totals = {
    sums: new Float64Array(buckets),
    compensations: new Float64Array(buckets),
    counts: new Uint32Array(buckets),
  };
  addToBuckets(times, values, index.origin, index.width, totals);
  if (entry) {
    entry.values.set(values as object, totals);
    hold(times as object, values as object, 20 * buckets);
  }
  return totals;
}

/** Adds each row's value to its bucket (compensated), in row order. */
function addToBuckets(
  times: TimeColumn,
  values: ArrayLike<number>,
  origin: number,
  width: number,
  { sums, compensations, counts }: BucketTotals,
): void {
  const n = times.length;
  for (let i = 0; i < n; i++) {
    const t = times[i] as number;
    const v = values[i] as number;
    if (t !== t || v !== v) continue;
    // Both steps written out, not through cellOf and addCompensated: with
    // them this loop took 94.5 ms instead of 77.5 ms on 10 M rows.
    let b = Math.floor((t - origin) / width);
    // The division may round up onto the next edge: the edge decides.
    if (origin + b * width > t) b--;
    const sum = sums[b] as number;
    const next = sum + v;
    compensations[b] = (compensations[b] as number) +
      (Math.abs(sum) >= Math.abs(v) ? (sum - next) + v : (v - next) + sum);
    sums[b] = next;
    counts[b] = (counts[b] as number) + 1;
  }
}

/**
 * The first bucket whose start is not before `at`, exactly (the division
 * only guesses): buckets from there on lie wholly at or after `at`.
 */
export function bucketAtOrAfter(index: TimeIndex, at: number): number {
  const buckets = index.starts.length - 1;
  const { origin, width } = index;
  let b = Math.max(0, Math.min(buckets, Math.ceil((at - origin) / width)));
  while (b > 0 && origin + (b - 1) * width >= at) b--;
  while (b < buckets && origin + b * width < at) b++;
  return b;
}

/**
 * The buckets that hold the rows of `[from, to)`: `[first, last)` holds every
 * such row, and `[fullFrom, fullTo)` (inside it) only such rows.
 */
export function bucketsOf(
  index: TimeIndex,
  from: number,
  to: number,
): { first: number; fullFrom: number; fullTo: number; last: number } {
  const { origin, width } = index;
  const fullFrom = bucketAtOrAfter(index, from);
  const first = fullFrom > 0 && origin + fullFrom * width > from
    ? fullFrom - 1
    : fullFrom;
  const last = Math.max(first, bucketAtOrAfter(index, to));
  let fullTo = last;
  if (fullTo > first && origin + fullTo * width > to) fullTo--;
  return { first, fullFrom, fullTo: Math.max(fullFrom, fullTo), last };
}

/** Builds the index: a stable counting sort into time buckets. */
export function buildTimeIndex(times: TimeColumn): TimeIndex {
  const n = times.length;
  let min = Infinity;
  let max = -Infinity;
  let present = 0;
  for (let i = 0; i < n; i++) {
    const t = times[i] as number;
    if (t === t) {
      present++;
      if (t < min) min = t;
      if (t > max) max = t;
    }
  }
  const origin = present === 0
    ? 0
    : Math.floor(min / QUARTER_HOUR) * QUARTER_HOUR;
  let width = QUARTER_HOUR;
  const most = Math.max(1024, Math.ceil(present / 4));
  while (present > 0 && (max - origin) / width >= most) width *= 2;
  const buckets = present === 0 ? 0 : Math.floor((max - origin) / width) + 1;
  const starts = new Uint32Array(buckets + 1);
  countBuckets(times, origin, width, starts);
  for (let b = 0; b < buckets; b++) {
    starts[b + 1] = (starts[b + 1] as number) + (starts[b] as number);
  }
  const order = new Uint32Array(present);
  placeRows(times, origin, width, starts.slice(0, buckets), order);
  return { order, starts, origin, width, length: n };
}

/**
 * Counts the rows of each bucket into `counts[b + 1]`: the first pass of the
 * counting sort. `placeRows`, the second, finds each row's bucket again
 * rather than keeping it from here: that would be 4 more bytes per row of
 * new memory, which is slow to touch on this project's machine (see the
 * module doc).
 */
function countBuckets(
  times: TimeColumn,
  origin: number,
  width: number,
  counts: Uint32Array,
): void {
  const n = times.length;
  for (let i = 0; i < n; i++) {
    const t = times[i] as number;
    if (t !== t) continue;
    const b = cellOf(t, origin, width);
    counts[b + 1] = (counts[b + 1] as number) + 1;
  }
}

/**
 * Writes each row's number at its bucket's next place, in row order: the
 * second pass of the counting sort, finding each bucket again as
 * `countBuckets` did (see there why).
 */
function placeRows(
  times: TimeColumn,
  origin: number,
  width: number,
  next: Uint32Array,
  order: Uint32Array,
): void {
  const n = times.length;
  for (let i = 0; i < n; i++) {
    const t = times[i] as number;
    if (t !== t) continue;
    const b = cellOf(t, origin, width);
    const at = next[b] as number;
    next[b] = at + 1;
    order[at] = i;
  }
}

/** Records what an entry holds, dropping the oldest past the budget. */
function hold(owner: object, value: object | null, bytes: number): void {
  held.set(new WeakRef(value ?? owner), {
    bytes,
    owner: new WeakRef(owner),
    value: value === null ? null : new WeakRef(value),
  });
  heldBytes += bytes;
  const drop = (ref: WeakRef<object>) => {
    const item = held.get(ref);
    if (!item) return;
    held.delete(ref);
    heldBytes -= item.bytes;
  };
  for (const [ref, item] of held) {
    // Arrays the program let go of: their copies went with them.
    if (!item.owner.deref() || (item.value && !item.value.deref())) drop(ref);
  }
  for (const [ref, item] of held) {
    if (heldBytes <= TIME_INDEX_BUDGET_BYTES) break;
    drop(ref);
    const ownerArray = item.owner.deref();
    if (!ownerArray) continue;
    if (item.value === null) {
      entries.delete(ownerArray);
      for (const [other, rest] of held) {
        if (rest.owner.deref() === ownerArray) drop(other);
      }
    } else {
      const valueArray = item.value.deref();
      if (valueArray) entries.get(ownerArray)?.values.delete(valueArray);
    }
  }
}

/** Marks an entry as just used (moves it to the end of the list). */
function touch(owner: object, value: object | null): void {
  const target = value ?? owner;
  for (const [ref, item] of held) {
    if (ref.deref() === target && item.owner.deref() === owner) {
      held.delete(ref);
      held.set(ref, item);
      return;
    }
  }
}
