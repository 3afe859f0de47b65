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
import { hasTimeIndex } from "./_time_index.ts";
import {
  mysqlInstantColumns,
  mysqlTemplateInstants,
} from "./_instant_columns.ts";

export type { SqlValueRequest } from "./plan_sql_queries.ts";

/**
 * Retries of a failed fused query start only within this many times the
 * longest `timeout_ms` of its KPIs after the fused query started; each runs
 * with its own KPIs' timeout, so the whole ends within one timeout more.
 */
export const RETRY_BUDGET = 3;

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
  const instantTimeColumns = options.instantTimeColumns ??
    (client.dialect === "mysql"
      ? await mysqlInstantColumns(client, requests)
      : undefined);
  const templateInstants = options.templateInstants ??
    (client.dialect === "mysql"
      ? await mysqlTemplateInstants(client, requests)
      : undefined);
  const timeIndexed = options.timeIndexed ??
    await lookUpTimeIndexes(client, requests, options);
  const { queries, failures } = planSql(client.dialect, requests, {
    ...options,
    timeIndexed,
    ...(instantTimeColumns ? { instantTimeColumns } : {}),
    ...(templateInstants ? { templateInstants } : {}),
  });
  for (const [key, error] of failures) {
    out.set(key, { value: null, error, durationMs: 0 });
  }
  const limit = limiter(maxConcurrency);

  const fail = (query: PlannedQuery, message: string, durationMs: number) => {
    for (const key of query.keys) {
      out.set(key, { value: null, error: message, durationMs });
    }
  };

  /**
   * Runs a query; when it fails (a timeout included, a lost connection
   * not), runs its parts (halves, then single KPIs; or single periods),
   * each starting before `budget.deadline` or not at all.
   */
  const run = async (
    query: PlannedQuery,
    budget: { deadline: number; cause: string } | null,
  ): Promise<void> => {
    let started = 0;
    let outcome: { rows: unknown[][] } | { error: unknown } | null;
    try {
      outcome = await limit(async () => {
        started = now();
        if (budget !== null && started >= budget.deadline) return null;
        return {
          rows: await client.query(query.sql, query.params, {
            timeoutMs: query.timeoutMs,
            timezone: query.timezone,
            utcOffset: query.utcOffset,
          }),
        };
      });
    } catch (error) {
      outcome = { error };
    }
    const durationMs = now() - started;
    if (outcome === null) {
      fail(
        query,
        `Not computed: the fused query failed (${budget?.cause}) and the time allowed for its retries ran out`,
        0,
      );
      return;
    }
    if ("error" in outcome) {
      const { error } = outcome;
      const message = error instanceof Error ? error.message : String(error);
      const connection = error instanceof Error &&
        error.name === "SqlConnectionError";
      if (query.fallback.length > 0 && !connection) {
        const next = budget ?? {
          deadline: started + RETRY_BUDGET * query.timeoutMs,
          cause: message,
        };
        await Promise.all(query.fallback.map((part) => run(part, next)));
        return;
      }
      fail(query, message, durationMs);
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
  await Promise.all(queries.map((query) => run(query, null)));
  return out;
}

/**
 * Asks the catalogue, once per client and table, which tables of fused
 * structured KPIs with more than one period have an index led by their time
 * column.
 */
async function lookUpTimeIndexes(
  client: SqlClient,
  requests: readonly SqlValueRequest[],
  options: FetchSqlValuesOptions,
): Promise<(table: string, timeColumn: string) => boolean> {
  const found = new Map<string, boolean>();
  const key = (table: string, column: string) => `${table}\u0000${column}`;
  if (options.fuse ?? true) {
    const lookups: Promise<void>[] = [];
    for (const { definition, periods } of requests) {
      const { table, timeColumn, query } = definition;
      if (
        (typeof query === "string" && query.trim() !== "") ||
        table === undefined || timeColumn === undefined || periods.length < 2
      ) continue;
      const id = key(table.trim(), timeColumn.trim());
      if (found.has(id)) continue;
      found.set(id, false);
      lookups.push(
        hasTimeIndex(
          client,
          table.trim(),
          timeColumn.trim(),
          options.defaultTimeoutMs ?? 30_000,
        ).then((indexed) => void found.set(id, indexed)),
      );
    }
    await Promise.all(lookups);
  }
  return (table, timeColumn) => found.get(key(table, timeColumn)) ?? false;
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
