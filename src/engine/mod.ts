/**
 * The engine: `KPIEngine` runs the pipeline (definitions, plan, sources,
 * comparisons, alerts, history, output) over the ports it is handed.
 *
 * @module
 */

export * from "./kpi_engine.ts";
