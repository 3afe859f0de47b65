/**
 * Targets and pace: attainment against a target and the projection of a
 * running period.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { computePace } from "@kpi-engine/kpi-engine";
 *
 * const status = computePace(50, 100, { start: "2024-11-01", end: "2024-12-01" }, "2024-12-01");
 * assert.equal(status.attainment, 0.5);
 * ```
 *
 * @module
 */

export * from "./compute_pace.ts";
