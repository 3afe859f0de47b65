/**
 * Series: a KPI for every bucket of a grain (day, week, month, quarter,
 * year) over a span, cut by the rules of single periods, and the shapes of
 * its points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seriesBuckets } from "./mod.ts";
 *
 * const weeks = seriesBuckets("week", { from: "2020-12-21", to: "2021-01-04" });
 * assert.deepEqual(weeks.map((w) => w.label), ["2020-W52", "2020-W53", "2021-W01"]);
 * ```
 *
 * @module
 */

export * from "./series_buckets.ts";
export * from "./build_series_points.ts";
export * from "./period_grain.ts";
