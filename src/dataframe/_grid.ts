/**
 * Private: two steps the in-memory folds repeat, in one place: finding a
 * time's cell on a grid of equal cells, and adding a value to a compensated
 * (Neumaier) sum kept in two arrays. V8 inlines both (seen with
 * `--v8-flags=--trace-turbo-inlining`), yet the code it makes is not always
 * as fast as the same lines written out: the time index's counting sort
 * uses `cellOf` (its build took 270–312 ms with it, 255–308 ms without,
 * in three interleaved runs on 10 M rows: within this machine's noise) and `CompensatedSums` uses `addCompensated` once per block of rows,
 * but the per-row loops of the bucket totals (`addToBuckets`, 94.5 ms
 * against 77.5 ms) and of the series scatter (`scatter` in
 * `series/_fold_buckets.ts`, 95–101 ms against 79 ms) write both steps out,
 * as do loops that keep a running sum in local variables (see `addRows` in
 * `_fold_ranges.ts`).
 *
 * @module
 */

/**
 * The number of the cell holding `t` on a grid of cells `width` wide from
 * `origin`. The division may round up onto the next edge: the edge decides.
 */
export function cellOf(t: number, origin: number, width: number): number {
  const c = Math.floor((t - origin) / width);
  return origin + c * width > t ? c - 1 : c;
}

/**
 * Adds `v` to `sums[j]`, keeping what the addition rounds away in
 * `compensations[j]` (Neumaier): `sums[j] + compensations[j]` is the sum.
 */
export function addCompensated(
  sums: Float64Array,
  compensations: Float64Array,
  j: number,
  v: number,
): void {
  const sum = sums[j] as number;
  const next = sum + v;
  compensations[j] = (compensations[j] as number) +
    (Math.abs(sum) >= Math.abs(v) ? (sum - next) + v : (v - next) + sum);
  sums[j] = next;
}
