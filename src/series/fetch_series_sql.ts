/**
 * Runs the SQL plan of a series (see {@linkcode planSeriesSql}): one
 * grouped query per table, and the batches planned as single periods. A
 * grouped query that fails is retried as the single-period plan of its
 * KPIs, so one broken KPI does not sink the others.
 *
 * @module
 */

import type { SqlClient } from "../types.ts";
import type { FetchedValue } from "../_value_key.ts";
import { fetchSqlValues } from "../sql/fetch_sql_values.ts";
import { mysqlInstantColumns } from "../sql/_instant_columns.ts";
import { hasTimeIndex } from "../sql/_time_index.ts";
import type { SqlValueRequest } from "../sql/plan_sql_queries.ts";
import {
  planSeriesSql,
  type PlanSeriesSqlOptions,
  readSeriesRows,
  type SeriesSqlQuery,
} from "./plan_series_sql.ts";

/** Options of {@linkcode fetchSeriesSql}. */
export interface FetchSeriesSqlOptions extends PlanSeriesSqlOptions {
  /** Most queries in flight at once. @default 4 */
  maxConcurrency?: number;
}

/**
 * Computes SQL KPI values for many periods with as few queries as the plan
 * allows.
 *
 * @param client The database.
 * @param requests The KPIs and every period each is needed for.
 * @param options Variables, batch size and concurrency.
 * @returns Values by `valueKey(name, period)`.
 *
 * @example With a client that answers every query with two pieces
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const sent: string[] = [];
 * const client = {
 *   dialect: "sqlite" as const,
 *   query: (sql: string) => {
 *     sent.push(sql);
 *     return Promise.resolve([[0, 40, 4], [1, 42, 5]]);
 *   },
 *   close: () => Promise.resolve(),
 * };
 * const month = (start: string, end: string) => ({ label: start, start, end, timezone: "UTC" });
 * const values = await fetchSeriesSql(client, [{
 *   definition: { name: "revenue", source: "sql", table: "orders", column: "amount", aggregation: "sum", timeColumn: "day" },
 *   periods: [month("2024-10-01", "2024-11-01"), month("2024-11-01", "2024-12-01"), month("2024-10-01", "2024-12-01")],
 * }]);
 * // One query for every period; SQLite is also asked once whether the
 * // time column is indexed (a catalogue lookup marked as such).
 * const valueQueries = sent.filter((sql) => !sql.includes("time index lookup"));
 * assert.equal(valueQueries.length, 1);
 * assert.equal(values.get("revenue@2024-11-01/2024-12-01")?.value, 42);
 * assert.equal(values.get("revenue@2024-10-01/2024-12-01")?.value, 82);
 * ```
 */
export async function fetchSeriesSql(
  client: SqlClient,
  requests: readonly SqlValueRequest[],
  options: FetchSeriesSqlOptions = {},
): Promise<Map<string, FetchedValue>> {
  const maxConcurrency = options.maxConcurrency ?? 4;
  const instantTimeColumns = options.instantTimeColumns ??
    (client.dialect === "mysql"
      ? await mysqlInstantColumns(client, requests)
      : undefined);
  const indexed = new Map<string, boolean>();
  if (client.dialect === "sqlite" && options.timeIndexed === undefined) {
    await Promise.all(requests.map(async ({ definition }) => {
      const { table, timeColumn, query } = definition;
      if (
        (typeof query === "string" && query.trim() !== "") ||
        table === undefined || timeColumn === undefined
      ) return;
      const key = `${table.trim()}\u0000${timeColumn.trim()}`;
      if (indexed.has(key)) return;
      indexed.set(key, false);
      indexed.set(
        key,
        await hasTimeIndex(
          client,
          table.trim(),
          timeColumn.trim(),
          options.defaultTimeoutMs ?? 30_000,
        ),
      );
    }));
  }
  const { queries, batches } = planSeriesSql(client.dialect, requests, {
    timeIndexed: (table, column) =>
      indexed.get(`${table}\u0000${column}`) ?? false,
    ...options,
    ...(instantTimeColumns ? { instantTimeColumns } : {}),
  });
  const out = new Map<string, FetchedValue>();
  const single = {
    maxConcurrency,
    ...(options.vars === undefined ? {} : { vars: options.vars }),
    ...(options.defaultTimeoutMs === undefined
      ? {}
      : { defaultTimeoutMs: options.defaultTimeoutMs }),
  };
  const runGrouped = async (query: SeriesSqlQuery): Promise<void> => {
    const started = performance.now();
    let rows: unknown[][];
    try {
      rows = await client.query(query.sql, query.params, {
        timeoutMs: query.timeoutMs,
        timezone: query.timezone,
      });
    } catch {
      for (
        const [key, value] of await fetchSqlValues(
          client,
          query.fallback,
          single,
        )
      ) out.set(key, value);
      return;
    }
    const durationMs = performance.now() - started;
    for (const [key, value] of readSeriesRows(query, rows, durationMs)) {
      out.set(key, value);
    }
  };
  const runBatches = async (): Promise<void> => {
    for (const batch of batches) {
      for (const [key, value] of await fetchSqlValues(client, batch, single)) {
        out.set(key, value);
      }
    }
  };
  const grouped = queries.slice();
  const workers = Array.from(
    { length: Math.max(1, Math.min(maxConcurrency, grouped.length)) },
    async () => {
      for (let q = grouped.shift(); q; q = grouped.shift()) await runGrouped(q);
    },
  );
  await Promise.all([...workers, runBatches()]);
  return out;
}
