/**
 * Fetches SQL KPI values: plans the queries, runs them on a
 * {@linkcode SqlClient} with bounded concurrency, checks each result's shape
 * and, when a fused query fails, re-runs its parts separately.
 *
 * @module
 */

import type { SqlClient } from "../types.ts";
import type { FetchedValue } from "../_value_key.ts";
import {
  type PlannedQuery,
  planSql,
  type PlanSqlQueriesOptions,
  type SqlValueRequest,
} from "./plan_sql_queries.ts";
import { readRows } from "./_result.ts";
import { isFinalSqlError } from "./_errors.ts";

export type { SqlValueRequest } from "./plan_sql_queries.ts";

/** Options of {@linkcode fetchSqlValues}. */
export interface FetchSqlValuesOptions extends PlanSqlQueriesOptions {
  /** Most queries in flight at once. @default 4 */
  maxConcurrency?: number;
  /** A monotonic clock in milliseconds, for durations. @default performance.now */
  now?: () => number;
}

/**
 * Computes SQL KPI values for their periods. One KPI's failure never
 * rejects the whole: its keys carry `error` and the others still compute.
 *
 * @param client The database.
 * @param requests The KPIs and the periods each is needed for.
 * @param options Variables, fusion, concurrency and timeouts.
 * @returns Values by `valueKey(name, period)`.
 *
 * @example With a client that answers every query with one value
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const sent: string[] = [];
 * const client = {
 *   dialect: "sqlite" as const,
 *   query: (sql: string) => {
 *     sent.push(sql);
 *     return Promise.resolve([[0, 42], [1, 40]]);
 *   },
 *   close: () => Promise.resolve(),
 * };
 * const period = (start: string, end: string) => ({ label: start, start, end, timezone: "UTC" });
 * const values = await fetchSqlValues(client, [{
 *   definition: { name: "revenue", source: "sql", query: "SELECT SUM(amount) FROM orders WHERE day >= {{ period_start }} AND day < {{ period_end }}" },
 *   periods: [period("2024-11-01", "2024-12-01"), period("2024-10-01", "2024-11-01")],
 * }]);
 * assert.equal(sent.length, 1);
 * assert.equal(values.get("revenue@2024-11-01/2024-12-01")?.value, 42);
 * assert.equal(values.get("revenue@2024-10-01/2024-11-01")?.value, 40);
 * ```
 */
export async function fetchSqlValues(
  client: SqlClient,
  requests: readonly SqlValueRequest[],
  options: FetchSqlValuesOptions = {},
): Promise<Map<string, FetchedValue>> {
  const now = options.now ?? (() => performance.now());
  const maxConcurrency = options.maxConcurrency ?? 4;
  if (!(Number.isInteger(maxConcurrency) && maxConcurrency >= 1)) {
    throw new RangeError(
      `Invalid maxConcurrency ${maxConcurrency}: expected a whole number of at least 1`,
    );
  }
  const out = new Map<string, FetchedValue>();
  const { queries, failures } = planSql(client.dialect, requests, options);
  for (const [key, error] of failures) {
    out.set(key, { value: null, error, durationMs: 0 });
  }
  const limit = limiter(maxConcurrency);

  const run = async (query: PlannedQuery): Promise<void> => {
    let started = 0;
    let outcome: { rows: unknown[][] } | { error: unknown };
    try {
      outcome = await limit(async () => {
        started = now();
        return {
          rows: await client.query(query.sql, query.params, {
            timeoutMs: query.timeoutMs,
            timezone: query.timezone,
          }),
        };
      });
    } catch (error) {
      outcome = { error };
    }
    const durationMs = now() - started;
    if ("error" in outcome) {
      const { error } = outcome;
      if (query.fallback.length > 0 && !isFinalSqlError(error)) {
        await Promise.all(query.fallback.map(run));
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      for (const key of query.keys) {
        out.set(key, { value: null, error: message, durationMs });
      }
      return;
    }
    for (const [key, read] of readRows(query, outcome.rows)) {
      const value: FetchedValue = {
        value: read.value,
        error: read.error,
        durationMs,
      };
      if (read.note !== undefined) value.note = read.note;
      out.set(key, value);
    }
  };
  await Promise.all(queries.map(run));
  return out;
}

/** Runs at most `max` tasks at once, in the order they were asked for. */
function limiter(
  max: number,
): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= max) {
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else active++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
