/**
 * Comparison of a value with an earlier period: change, percent change
 * and whether it is favorable under the KPI's polarity.
 *
 * @module
 */

export * from "./compare.ts";
