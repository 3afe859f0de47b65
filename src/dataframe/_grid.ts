/**
 * Private: the two steps every in-memory fold repeats per row, in one
 * place: finding a time's cell on a grid of equal cells, and adding a value
 * to a compensated (Neumaier) sum kept in two arrays. Both are small enough
 * that V8 inlines them into the loops that call them per row (seen with
 * `--v8-flags=--trace-turbo-inlining`); the time index's build and totals
 * and the series scatter on 4 M rows kept their times within this shared
 * machine's noise. Loops that keep a running sum in local variables write
 * the step out instead (see `addRows` in `_fold_ranges.ts`).
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
