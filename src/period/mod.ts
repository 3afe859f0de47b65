/**
 * Periods: period strings (`last_month`, `2024-Q3`, `2024-W07`, ranges)
 * resolved to half-open ranges of whole days in a time zone, the shifts of
 * the comparisons (DoD, WoW, MoM, QoQ, YoY), and the instants a period spans.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolvePeriod, shiftPeriod } from "./mod.ts";
 *
 * const q3 = resolvePeriod("2024-Q3");
 * assert.equal(q3.start.toString(), "2024-07-01");
 * assert.equal(shiftPeriod(q3, "YoY").start.toString(), "2023-07-01");
 * ```
 *
 * @module
 */

export * from "./resolve_period.ts";
export * from "./shift_period.ts";
export * from "./period_instants.ts";
