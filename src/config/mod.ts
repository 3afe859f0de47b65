/**
 * Configuration: reads a KPI file (YAML text or a plain object), expands
 * `${VAR}` references, validates every field against the schema and the
 * cross-field checks, and reports problems as a `KPIConfigError` whose issues
 * name the file, line and field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KPIConfigError, parseKpis } from "./mod.ts";
 *
 * const config = parseKpis(
 *   "kpis:\n  - { name: orders, source: dataframe, query: orders.*, aggregation: count }\n",
 *   { file: "kpis.yaml" },
 * );
 * assert.equal(config.kpis[0]?.name, "orders");
 * assert.throws(() => parseKpis("kpis: [{ name: 1x }]", { file: "bad.yaml" }), KPIConfigError);
 * ```
 *
 * @module
 */

export * from "./parse_kpis.ts";
export * from "./kpi_config_error.ts";
export * from "./format_config_issues.ts";
export * from "./expand_env.ts";
export * from "./kpi_config_json_schema.ts";
