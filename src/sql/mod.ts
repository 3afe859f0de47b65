/**
 * SQL planning, dialect-free: templates compiled to bound parameters, the
 * planner that fuses the queries of many KPIs and periods, and the fetcher
 * that runs the plan on a `SqlClient` handed in.
 *
 * @module
 */

export * from "./compile_template.ts";
export * from "./plan_sql_queries.ts";
export * from "./fetch_sql_values.ts";
export { type FetchedValue, valueKey } from "../_value_key.ts";
