/**
 * Segments: break a KPI down by its dimensions and say which segments
 * explain a change (additive contributions, or rate and mix effects for
 * ratios), with the SQL planner and in-memory grouping behind them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attributeChange } from "./mod.ts";
 * const m = (value: number) => ({ value, numerator: value, denominator: 1 });
 * const why = attributeChange([
 *   { segment: { region: "EU" }, previous: m(100.1), current: m(40.05) },
 *   { segment: { region: "US" }, previous: m(50.2), current: m(55.2) },
 * ], { method: "additive", dimensions: ["region"] });
 * assert.equal(why.change, -55.05);
 * assert.equal(why.drivers[0]?.contribution, -60.05);
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./assemble_breakdown.ts";
export * from "./attribute_change.ts";
export * from "./plan_segment_queries.ts";
export * from "./fetch_segments.ts";
export * from "./compute_segments.ts";
