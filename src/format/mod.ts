/**
 * Formatting for people: the one number formatter (values, changes,
 * comparisons) the CLI, alert messages and the dashboard share, day ranges,
 * and whole reports, series and histories as an aligned table, JSON, CSV or
 * Markdown, as the CLI prints them. CSV text comes from `csv-stringify`, so
 * reports live on this subpath rather than in the pure root, which exports
 * only `formatValue` and `formatChange`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatReport } from "@kpi-engine/kpi-engine/format";
 *
 * const result = {
 *   name: "revenue", label: "Revenue", unit: "USD", value: 6000,
 *   periodStart: "2024-11-01", periodEnd: "2024-12-01", comparisons: {},
 *   momChangePct: null, yoyChangePct: null, alertStatus: "ok" as const,
 *   alertsTriggered: [], queryDurationMs: 1, error: null, note: null,
 * };
 * assert.equal(
 *   formatReport({ results: [result] }, "csv").split("\n")[1],
 *   "revenue,Revenue,USD,6000,2024-11-01,2024-12-01,ok,,1,",
 * );
 * ```
 *
 * @module
 */

export * from "./format_number.ts";
export * from "./format_day_range.ts";
export * from "./format_report.ts";
export * from "./format_series.ts";
