/**
 * kpi-engine: declarative KPIs for Deno. Define business metrics once, in
 * YAML or TypeScript; compute them for any period from SQL databases or
 * in-memory tables; compare them with earlier periods (DoD, WoW, MoM, QoQ,
 * YoY); raise alerts; keep a history.
 *
 * The engine opens nothing by itself: the SQL client, tables, history store,
 * alert notifier and clock are passed in. This module and everything it
 * imports touch no file, network, driver or clock. Reading a YAML file and
 * opening what it names is the job of `openEngine` in the `./adapters`
 * entry point, which also holds the SQL clients, history stores, alert
 * channels, the HTTP server and the scheduler.
 *
 * This root keeps what a user of the engine needs: `KPIEngine`, parsing and
 * validation, periods, comparison, expressions and conditions, values and
 * changes formatted for people, the definition and result types, the ports
 * and the errors. The parts inside are on subpaths: `./sql` (template
 * compiler, planner, fetcher), `./alerts` (alert planning, state decisions,
 * messages, channel payloads), `./expression` (the expression tree),
 * `./dataframe` (the in-memory kernel) and `./format` (the number formatter
 * and whole reports and series as a table, JSON, CSV or Markdown).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KPIEngine } from "@kpi-engine/kpi-engine";
 *
 * const engine = new KPIEngine({
 *   kpis: [{
 *     name: "revenue",
 *     label: "Monthly Revenue",
 *     source: "dataframe",
 *     aggregation: "sum",
 *     unit: "USD",
 *     query: "orders.revenue",
 *     compare: ["MoM"],
 *     alerts: [{ condition: "< 1000", severity: "warning" }],
 *   }],
 *   dataframes: {
 *     orders: {
 *       revenue: [1000, 2000, 3000],
 *       order_date: ["2024-11-01", "2024-11-15", "2024-11-28"],
 *     },
 *   },
 * });
 * const [revenue] = await engine.run("2024-11");
 * assert.equal(revenue?.value, 6000);
 * assert.equal(revenue?.comparisons.MoM?.previousValue, 0);
 * ```
 *
 * @module
 */

export {
  type BacktestOptions,
  type BreakdownOptions,
  type BreakdownsOptions,
  type DriversOptions,
  KPIEngine,
  type KPIEngineOptions,
  type RunOptions,
  type RunReport,
} from "./src/engine/kpi_engine.ts";
export { parseKpis, type ParseKpisOptions } from "./src/config/parse_kpis.ts";
export {
  KPIConfigError,
  type KPIConfigErrorOptions,
  type KPIConfigIssue,
} from "./src/config/kpi_config_error.ts";
export { formatConfigIssues } from "./src/config/format_config_issues.ts";
export { expandEnv } from "./src/config/expand_env.ts";
export {
  type JsonSchema,
  kpiConfigJsonSchema,
} from "./src/config/kpi_config_json_schema.ts";
export {
  PERIOD_FORMS,
  resolvePeriod,
  type ResolvePeriodOptions,
} from "./src/period/resolve_period.ts";
export { COMPARISON_SHIFTS, shiftPeriod } from "./src/period/shift_period.ts";
export {
  type PeriodInstants,
  periodInstants,
} from "./src/period/period_instants.ts";
export { compare, type CompareOptions } from "./src/compare/compare.ts";
export {
  evaluateExpression,
  type Expression,
  ExpressionError,
  type ExpressionErrorOptions,
  type ExpressionValue,
  parseExpression,
} from "./src/expression/expression.ts";
export {
  type Condition,
  type ConditionInput,
  evaluateCondition,
  parseCondition,
} from "./src/expression/condition.ts";
export {
  formatChange,
  formatValue,
  type FormatValueOptions,
} from "./src/format/format_number.ts";
export * from "./src/series/mod.ts";
export * from "./src/anomaly/mod.ts";
export * from "./src/targets/mod.ts";
export * from "./src/backtest/mod.ts";
export * from "./src/ports.ts";
export * from "./src/types.ts";
export type {
  AttributionMethod,
  BreakdownCut,
  BreakdownRow,
  DimensionBreakdown,
  Driver,
  KPIBreakdown,
  KPIDrivers,
  Segment,
  SegmentMeasure,
} from "./src/segments/types.ts";
export {
  assembleBreakdown,
  type AssembleBreakdownOptions,
  OTHER_SEGMENT,
  type SegmentSeries,
} from "./src/segments/assemble_breakdown.ts";
export {
  attributeChange,
  type AttributeChangeOptions,
  type Attribution,
  type ChangeCell,
} from "./src/segments/attribute_change.ts";
export {
  type PlannedSegmentQuery,
  planSegmentQueries,
  type PlanSegmentQueriesOptions,
  type SegmentPlan,
  type SegmentRequest,
} from "./src/segments/plan_segment_queries.ts";
