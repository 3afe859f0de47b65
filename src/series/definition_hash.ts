/**
 * A short, stable hash of what decides a KPI's value, recorded with each
 * history row so that a backfill can tell rows computed by an older
 * definition.
 *
 * @module
 */

import type { KPIDefinition } from "../types.ts";

/** The fields of a definition that change its value. */
const VALUE_FIELDS = [
  "source",
  "query",
  "expression",
  "aggregation",
  "timeColumn",
  "table",
  "column",
  "filter",
  "window",
] as const;

/**
 * Hashes the fields that decide a KPI's value (source, query, expression,
 * aggregation, time column, table, column, filter, window, and the
 * template variables given): 16 hex digits of 64-bit FNV-1a. Labels, units,
 * comparisons and alert rules do not change it.
 *
 * @param definition The KPI.
 * @param vars Template variables the value depends on. @default {}
 * @returns The hash, e.g. `"9f0c0b1e6d3a4c21"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const a = definitionHash({ name: "r", source: "sql", table: "orders", column: "amount", aggregation: "sum", timeColumn: "day" });
 * const b = definitionHash({ name: "r", label: "Revenue", source: "sql", table: "orders", column: "amount", aggregation: "sum", timeColumn: "day" });
 * const c = definitionHash({ name: "r", source: "sql", table: "orders", column: "amount", aggregation: "avg", timeColumn: "day" });
 * assert.equal(a, b);
 * assert.notEqual(a, c);
 * assert.match(a, /^[0-9a-f]{16}$/);
 * ```
 */
export function definitionHash(
  definition: KPIDefinition,
  vars: Readonly<Record<string, unknown>> = {},
): string {
  const fields: Record<string, unknown> = {};
  for (const field of VALUE_FIELDS) {
    if (definition[field] !== undefined) fields[field] = definition[field];
  }
  const sortedVars = Object.fromEntries(
    Object.entries(vars).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  const text = JSON.stringify([fields, sortedVars]);
  let hash = 0xcbf29ce484222325n;
  const bytes = new TextEncoder().encode(text);
  for (const byte of bytes) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, "0");
}
