/**
 * Private: reads the rows a planned query returned back into KPI values,
 * checking their shape.
 *
 * @module
 */

import type { PlannedQuery } from "./plan_sql_queries.ts";
import { valueKey } from "../_value_key.ts";
import { cleanNumber } from "../_numbers.ts";

const EXPECTED = "expected one row with one numeric column";
const NUMERIC = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/** A value read from a result, or why it could not be read. */
export interface ReadValue {
  /** The number, or null. */
  value: number | null;
  /** Why the result was unusable, or null. */
  error: string | null;
  /** Why the value is null without an error. */
  note?: string;
}

/** Describes a value for a message: `"abc" (a string)`. */
function describe(value: unknown): string {
  if (value instanceof Date) return `a date (${value.toISOString()})`;
  if (value instanceof Uint8Array) return `binary data (${value.length} bytes)`;
  if (typeof value === "string") {
    const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    return `${JSON.stringify(shown)} (a string)`;
  }
  if (typeof value === "object") return `an object ${JSON.stringify(value)}`;
  return `${String(value)} (a ${typeof value})`;
}

/**
 * Converts one database value to a number, or says why it is not one. A
 * float the driver computed loses its binary noise (`cleanNumber`); a
 * decimal the database sent as text (PostgreSQL `numeric`, MySQL
 * `DECIMAL`) is the data itself and is read exactly.
 */
export function toNumber(value: unknown): ReadValue {
  if (value === null || value === undefined) {
    return { value: null, error: null };
  }
  if (typeof value === "number") {
    return Number.isFinite(value)
      ? { value: cleanNumber(value), error: null }
      : {
        value: null,
        error: `Query returned ${value}; expected a finite number`,
      };
  }
  if (typeof value === "bigint") return { value: Number(value), error: null };
  if (typeof value === "string" && NUMERIC.test(value)) {
    return { value: Number(value), error: null };
  }
  return {
    value: null,
    error: `Query returned ${describe(value)}; expected a number`,
  };
}

/**
 * Reads a query's rows into values by key. A key missing from the result
 * maps to an error.
 */
export function readRows(
  query: PlannedQuery,
  rows: readonly unknown[][],
): Map<string, ReadValue> {
  const out = new Map<string, ReadValue>();
  const wanted = new Set(query.keys);
  if (!query.tagged) {
    const key = query.keys[0] as string;
    out.set(key, readSingle(rows));
    return out;
  }
  const byTag = new Map<number, unknown[][]>();
  if (query.wide) rows = unwiden(query, rows);
  for (const row of rows) {
    const tag = Number(row[0]);
    const list = byTag.get(tag);
    if (list) list.push(row);
    else byTag.set(tag, [row]);
  }
  const width = 1 + query.columns.length;
  const countColumn = query.columns.indexOf(null);
  query.ranges.forEach((range, tag) => {
    const tagged = byTag.get(tag) ?? [];
    for (let column = 0; column < query.columns.length; column++) {
      const name = query.columns[column];
      if (name === null || name === undefined) continue;
      const key = valueKey(name, range);
      if (!wanted.has(key)) continue;
      if (query.kind === "template") {
        out.set(key, readSingle(tagged.map((row) => row.slice(1))));
        continue;
      }
      const row = tagged[0];
      if (tagged.length !== 1 || !row || row.length !== width) {
        out.set(key, {
          value: null,
          error: `Query returned ${tagged.length} rows of ${
            row?.length ?? 0
          } columns for ${range.start}..${range.end}; expected one row of ${width} columns`,
        });
        continue;
      }
      const read = toNumber(row[column + 1]);
      if (read.value === null && read.error === null && countColumn !== -1) {
        const count = toNumber(row[countColumn + 1]).value;
        if (count === 0) {
          read.note = `No rows in ${
            query.table?.replace(/["`]/g, "") ?? "the table"
          } from ${range.start} to ${range.end}`;
        }
      }
      out.set(key, read);
    }
  });
  for (const key of query.keys) {
    if (!out.has(key)) {
      out.set(key, {
        value: null,
        error: `Query returned no value for ${key}`,
      });
    }
  }
  return out;
}

/**
 * Cuts the one row of a wide query into one row per range, led by its tag,
 * as a query per range returns them; any other shape is left for the
 * caller to report.
 */
function unwiden(
  query: PlannedQuery,
  rows: readonly unknown[][],
): readonly unknown[][] {
  const row = rows[0];
  const width = query.columns.length;
  if (rows.length !== 1 || !row || row.length !== width * query.ranges.length) {
    return rows;
  }
  return query.ranges.map((_, tag) => [
    tag,
    ...row.slice(tag * width, (tag + 1) * width),
  ]);
}

/** Reads the result of a query that must return one row of one column. */
function readSingle(rows: readonly unknown[][]): ReadValue {
  if (rows.length !== 1) {
    return {
      value: null,
      error: rows.length === 0
        ? `Query returned no rows; ${EXPECTED}`
        : `Query returned ${rows.length} rows; ${EXPECTED}`,
    };
  }
  const row = rows[0] as unknown[];
  if (row.length !== 1) {
    return {
      value: null,
      error: `Query returned a row of ${row.length} columns; ${EXPECTED}`,
    };
  }
  const read = toNumber(row[0]);
  if (read.error !== null) {
    return { ...read, error: `${read.error} (${EXPECTED})` };
  }
  if (read.value === null) read.note = "The query returned NULL";
  return read;
}
