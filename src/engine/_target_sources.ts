/**
 * Private: targets read from a KPI's own database. A target source is run
 * as a KPI of its own on the same connection: a template returns the
 * period's target, a table's column is aggregated over the period like a
 * structured KPI, with every value bound as a parameter by the SQL writer.
 *
 * @module
 */

import type { KPIDefinition, TargetSource } from "../types.ts";

/** Whether a KPI's `target` is read from its database. */
export function isTargetSource(
  target: KPIDefinition["target"],
): target is TargetSource {
  return typeof target === "object" && target !== null &&
    (typeof (target as TargetSource).query === "string" ||
      typeof (target as TargetSource).table === "string");
}

/**
 * The KPIs that read a KPI's target, under the KPI's own name (they are
 * fetched apart from the values): the target itself, and for a table's
 * sum the count of its rows in the period (a sum of no rows is 0, but no
 * row means no target). Empty when the target is not read.
 */
export function targetDefinitions(
  definition: KPIDefinition,
): { read: KPIDefinition; rows: KPIDefinition | null } | null {
  const target = definition.target;
  if (!isTargetSource(target)) return null;
  const read: KPIDefinition = { name: definition.name, source: "sql" };
  if (definition.timeoutMs !== undefined) read.timeoutMs = definition.timeoutMs;
  if (target.query !== undefined) {
    // As a scalar subquery: no row reads as NULL (no target), not as an error.
    read.query = `SELECT (\n${target.query.replace(/;\s*$/, "")}\n)`;
    return { read, rows: null };
  }
  read.table = target.table!;
  read.column = target.column!;
  read.timeColumn = target.timeColumn!;
  read.aggregation = target.aggregation ?? "sum";
  if (target.filter !== undefined) read.filter = target.filter;
  const rows: KPIDefinition | null = read.aggregation === "sum"
    ? {
      ...read,
      name: `${definition.name}${ROWS}`,
      column: "*",
      aggregation: "count",
    }
    : null;
  return { read, rows };
}

/** The suffix of the name of a target's row count (not a KPI name character). */
export const ROWS = ":rows";

/** What a target read found for one period. */
export interface TargetRead {
  /** The target, or null. */
  value: number | null;
  /** Why there is none: the query's error, or that it found no value. */
  note: string | null;
}

/** A fetched target (and its row count, where counted) as a target read. */
export function targetRead(
  fetched: { value: number | null; error: string | null } | undefined,
  rows?: { value: number | null; error: string | null },
): TargetRead {
  if (fetched === undefined) {
    return { value: null, note: "The target was not read" };
  }
  if (fetched.error) {
    return { value: null, note: `The target query failed: ${fetched.error}` };
  }
  return fetched.value === null || rows?.value === 0
    ? { value: null, note: "The target query found no value for this period" }
    : { value: fetched.value, note: null };
}
