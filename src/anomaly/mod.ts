/**
 * Anomaly baselines: what normal looks like for a point of a KPI's series
 * (a robust, seasonal median and spread of earlier points), and whether the
 * point is unusual.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { computeBaseline } from "@kpi-engine/kpi-engine";
 *
 * const earlier = [100, 102, 98, 101, 99].map((value, i) => ({
 *   periodStart: `2024-0${i + 1}-01`,
 *   value,
 * }));
 * const baseline = computeBaseline(140, "2024-06-01", earlier, "month");
 * assert.equal(baseline.anomalous, true);
 * ```
 *
 * @module
 */

export * from "./compute_baseline.ts";
