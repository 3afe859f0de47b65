/**
 * Plans the SQL of a series: structured KPIs of one table are computed for
 * every bucket, comparison base and window in one query that reads the
 * covered time range once. The engine cuts time into pieces at every
 * bucket edge and sends the edges as bound parameters; each row finds its
 * piece through a binary search written as nested `CASE WHEN t < ?`, the
 * query groups by piece, and each bucket adds up its pieces (sums and
 * counts add exactly, so averages and rates do too). `last` is the value
 * at the latest time of the latest piece that has one, folded per piece as
 * a single period folds it (BigQuery and Snowflake aside). Template KPIs
 * and filters that use the period variables are planned as for single
 * periods, in batches of at most {@linkcode MAX_SERIES_BATCH} periods per
 * query.
 *
 * @module
 */

import type { KPIDefinition, Period, SqlDialect } from "../types.ts";
import { type FetchedValue, valueKey } from "../_value_key.ts";
import { cleanNumber } from "../_numbers.ts";
import {
  aggregate,
  type StructuredKpi,
  structuredKpi,
} from "../sql/_structured.ts";
import {
  type ParsedTemplate,
  PERIOD_VARIABLES,
  SqlBuilder,
} from "../sql/_template.ts";
import { toNumber } from "../sql/_result.ts";
import { DEFAULT_TIMEOUT_MS, uniquePeriods } from "../sql/_plan_common.ts";
import {
  instantColumnKey,
  type SqlValueRequest,
} from "../sql/plan_sql_queries.ts";
import { periodInstants } from "../period/period_instants.ts";

/** Dialects whose grouped series query computes `last` per piece. */
const LAST_IN_GROUP: ReadonlySet<SqlDialect> = new Set([
  "sqlite",
  "postgres",
  "mysql",
  "duckdb",
  "clickhouse",
]);

/** Most periods one batched query computes (templates and `last`). */
export const MAX_SERIES_BATCH = 100;

/** Options of {@linkcode planSeriesSql}. */
export interface PlanSeriesSqlOptions {
  /** Template variables besides `period_start` and `period_end`. @default {} */
  vars?: Readonly<Record<string, string | number | boolean>>;
  /** Timeout of a KPI that sets none, in milliseconds. @default 30000 */
  defaultTimeoutMs?: number;
  /** Most periods per batched query. @default MAX_SERIES_BATCH (100) */
  maxBatch?: number;
  /**
   * Time columns that hold instants the server would cut at its own idea of
   * the zone (a MySQL `TIMESTAMP`), as `instantColumnKey(table, column)`:
   * their edges are sent as the UTC date-times of local midnight, with the
   * session in UTC. @default none
   */
  instantTimeColumns?: ReadonlySet<string>;
  /**
   * Whether a table has an index led by its time column (names as written
   * in the KPIs). On SQLite, such a table is grouped by the time column
   * first (read in index order, no sort) and each group's piece found once,
   * rather than sorting every row by its piece. `fetchSeriesSql` asks the
   * catalogue. @default () => false
   */
  timeIndexed?: (table: string, timeColumn: string) => boolean;
}

/** One KPI's part of a series query: which columns hold it. */
export interface SeriesColumn {
  /** KPI name. */
  name: string;
  /**
   * How its pieces combine: sums and counts add up, averages and rates add
   * up a sum and a count, `last` takes the latest piece that has a value.
   */
  aggregation: "sum" | "count" | "avg" | "rate" | "last";
  /** Index of its first value column (after the piece column). */
  first: number;
  /** The periods it is needed for. */
  periods: readonly Period[];
}

/** One query computing structured KPIs of one table over pieces of time. */
export interface SeriesSqlQuery {
  /** The SQL, in the dialect's placeholder style. */
  sql: string;
  /** The bound values, one per placeholder. */
  params: unknown[];
  /** The table read (quoted). */
  table: string;
  /** Names of the KPIs it computes. */
  kpis: string[];
  /** The edges of the pieces, ISO days in ascending order. */
  bounds: string[];
  /** The time zone the session runs in. */
  timezone: string;
  /**
   * Whether the time column holds instants (a MySQL `TIMESTAMP`): the edges
   * are then sent as UTC date-times and the session runs in UTC.
   */
  instant: boolean;
  /** Cancel it after this many milliseconds. */
  timeoutMs: number;
  /** How many values it yields. */
  values: number;
  /** The same KPIs as ordinary requests, sent when this query fails. */
  fallback: SqlValueRequest[];
  /** Where each KPI's columns are. */
  columns: SeriesColumn[];
}

/** A series plan: grouped queries, and batches of ordinary requests. */
export interface SeriesSqlPlan {
  /** One query per table (and time column and zone). */
  queries: SeriesSqlQuery[];
  /**
   * What is planned as for single periods, in batches: each batch goes to
   * `fetchSqlValues` as it is.
   */
  batches: SqlValueRequest[][];
}

// The single-period planner (sql/plan_sql_queries.ts) opens the same way on
// purpose: the steps both take alike (distinct periods, default timeout)
// come from sql/_plan_common.ts; the queries they write differ.
/**
 * Plans the queries of a series.
 *
 * @param dialect The SQL dialect to write.
 * @param requests The SQL KPIs and every period each is needed for.
 * @param options Variables, timeout and batch size.
 * @returns The grouped queries and the batches planned as single periods.
 *
 * @example 24 months of three KPIs and their MoM bases: one query
 * ```ts
 * import assert from "node:assert/strict";
 * import { seriesBuckets } from "./series_buckets.ts";
 *
 * const periods = seriesBuckets("month", { from: "2022-12", to: "2024-11" });
 * const kpi = (name: string, aggregation: "sum" | "count" | "avg", column: string) => ({
 *   definition: { name, source: "sql" as const, table: "orders", column, aggregation, timeColumn: "day" },
 *   periods,
 * });
 * const plan = planSeriesSql("postgres", [
 *   kpi("revenue", "sum", "amount"),
 *   kpi("orders", "count", "*"),
 *   kpi("basket", "avg", "amount"),
 * ]);
 * assert.equal(plan.queries.length, 1);
 * assert.equal(plan.batches.length, 0);
 * assert.equal(plan.queries[0]?.values, 72);
 * assert.equal(plan.queries[0]?.bounds.length, 25);
 * assert.match(plan.queries[0]?.sql ?? "", /GROUP BY 1/);
 * ```
 */
export function planSeriesSql(
  dialect: SqlDialect,
  requests: readonly SqlValueRequest[],
  options: PlanSeriesSqlOptions = {},
): SeriesSqlPlan {
  const vars = options.vars ?? {};
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBatch = options.maxBatch ?? MAX_SERIES_BATCH;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) {
    throw new RangeError(
      `Invalid maxBatch ${maxBatch}: expected a whole number of at least 1`,
    );
  }
  const groups = new Map<
    string,
    {
      timezone: string;
      instant: boolean;
      members: { kpi: StructuredKpi; request: SqlValueRequest }[];
    }
  >();
  const ordinary: SqlValueRequest[] = [];
  for (const request of requests) {
    const { definition } = request;
    const kpi = groupable(definition, dialect);
    if (kpi === null) {
      ordinary.push(request);
      continue;
    }
    const instant = options.instantTimeColumns?.has(
      instantColumnKey(definition.table ?? "", definition.timeColumn ?? ""),
    ) ?? false;
    for (const [timezone, periods] of byTimezone(request.periods)) {
      const id = `${kpi.table}\u0000${kpi.timeColumn}\u0000${timezone}`;
      let group = groups.get(id);
      if (!group) groups.set(id, group = { timezone, instant, members: [] });
      group.members.push({ kpi, request: { definition, periods } });
    }
  }
  const queries = [...groups.values()].map((group) =>
    seriesQuery(dialect, group.members, {
      timezone: group.timezone,
      instant: group.instant,
      byTime: dialect === "sqlite" && (options.timeIndexed?.(
        (group.members[0]?.request.definition.table ?? "").trim(),
        (group.members[0]?.request.definition.timeColumn ?? "").trim(),
      ) ?? false),
      vars,
      defaultTimeoutMs,
    })
  );
  const batches: SqlValueRequest[][] = [];
  for (const request of ordinary) {
    const periods = uniquePeriods(request.periods);
    for (let i = 0, b = 0; i < periods.length; i += maxBatch, b++) {
      const batch = batches[b] ?? (batches[b] = []);
      batch.push({
        definition: request.definition,
        periods: periods.slice(i, i + maxBatch),
      });
    }
  }
  return { queries, batches };
}

/** A structured KPI the grouped query can compute, or null. */
function groupable(
  definition: KPIDefinition,
  dialect: SqlDialect,
): StructuredKpi | null {
  if (definition.source !== "sql") return null;
  if (typeof definition.query === "string" && definition.query.trim() !== "") {
    return null;
  }
  if (definition.table === undefined) return null;
  let kpi: StructuredKpi;
  try {
    kpi = structuredKpi(definition, dialect);
  } catch {
    // The single-period planner reports the problem.
    return null;
  }
  // `last` folds a (time, value) maximum per piece; BigQuery and Snowflake
  // look it up per range instead (no such maximum is written for them).
  if (kpi.aggregation === "last" && !LAST_IN_GROUP.has(dialect)) return null;
  if (
    kpi.filter?.variables.some((name) => PERIOD_VARIABLES.includes(name))
  ) {
    return null;
  }
  return kpi;
}

function seriesQuery(
  dialect: SqlDialect,
  members: readonly { kpi: StructuredKpi; request: SqlValueRequest }[],
  context: {
    timezone: string;
    instant: boolean;
    byTime: boolean;
    vars: Readonly<Record<string, unknown>>;
    defaultTimeoutMs: number;
  },
): SeriesSqlQuery {
  const { timezone, instant, vars, defaultTimeoutMs } = context;
  const all = members.flatMap((m) => m.request.periods);
  const bounds = [...new Set(all.flatMap((p) => [p.start, p.end]))].sort();
  const covered = mergeRanges(all);
  const first = (members[0] as (typeof members)[number]).kpi;
  const t = first.timeColumn;
  // An instant column is cut at the UTC date-times of local midnight.
  const edge = instant
    ? (day: string): string => utcMidnight(day, timezone)
    : (day: string): string => day;
  const b = new SqlBuilder(dialect);
  // Each KPI's columns: one value, or a sum and a count (averages, rates).
  const columns: SeriesColumn[] = [];
  let column = 1;
  for (const { kpi, request } of members) {
    const aggregation = kpi.aggregation as SeriesColumn["aggregation"];
    columns.push({
      name: kpi.name,
      aggregation,
      first: column,
      periods: uniquePeriods(request.periods),
    });
    column += aggregation === "avg" || aggregation === "rate" ? 2 : 1;
  }
  // Binary search over the edges: piece j holds bounds[j] <= t < bounds[j+1].
  const search = (time: string, lo: number, hi: number): void => {
    if (hi - lo <= 1) {
      b.text(String(lo));
      return;
    }
    const mid = (lo + hi) >>> 1;
    b.text(`CASE WHEN ${time} < `).param(edge(bounds[mid] as string)).text(
      " THEN ",
    );
    search(time, lo, mid);
    b.text(" ELSE ");
    search(time, mid, hi);
    b.text(" END");
  };
  const values = (aliased: boolean): void => {
    let k = 0;
    const alias = () => aliased ? ` AS c${++k}` : "";
    for (const { kpi } of members) {
      const filtered = (value: string) => {
        if (kpi.filter === null) b.text(value);
        else {
          b.text("CASE WHEN (").template(kpi.filter as ParsedTemplate, vars)
            .text(`) THEN ${value} END`);
        }
      };
      b.text(",\n  ");
      const c = kpi.column;
      switch (kpi.aggregation) {
        case "last":
          // The value at the latest time, as a single period folds it.
          aggregate(b, kpi, vars, null);
          b.text(alias());
          break;
        case "sum":
          b.text("SUM(");
          filtered(c);
          b.text(`)${alias()}`);
          break;
        case "count":
          b.text("COUNT(");
          filtered(c === "*" ? (kpi.filter === null ? "*" : "1") : c);
          b.text(`)${alias()}`);
          break;
        case "avg":
        case "rate": {
          const value = kpi.aggregation === "avg"
            ? (dialect === "mysql" ? `${c} + 0e0` : c)
            : `CASE WHEN ${c} IS NULL THEN NULL WHEN ${
              dialect === "postgres" ? `CAST(${c} AS BOOLEAN)` : c
            } THEN 1e0 ELSE 0e0 END`;
          b.text("SUM(");
          filtered(value);
          b.text(`)${alias()}, COUNT(`);
          filtered(value);
          b.text(`)${alias()}`);
          break;
        }
      }
    }
  };
  const where = (): void => {
    b.text("\nWHERE ");
    covered.forEach(([start, end], i) => {
      if (i > 0) b.text(" OR ");
      b.text(`(${t} >= `).param(edge(start)).text(` AND ${t} < `).param(
        edge(end),
      ).text(")");
    });
  };
  if (context.byTime) {
    // Grouped by the time column first (in index order, no sort), then each
    // group's piece found once, not once per row.
    b.text("SELECT ");
    search("g.t_", 0, bounds.length - 1);
    b.text(" AS piece");
    let k = 0;
    for (const [i, { kpi }] of members.entries()) {
      const info = columns[i] as SeriesColumn;
      b.text(",\n  ");
      if (info.aggregation === "last") {
        aggregate(
          b,
          {
            ...kpi,
            column: `g.c${++k}`,
            timeColumn: "g.t_",
            filter: null,
          },
          vars,
          null,
        );
      } else if (info.aggregation === "avg" || info.aggregation === "rate") {
        b.text(`SUM(g.c${++k}), SUM(g.c${++k})`);
      } else b.text(`SUM(g.c${++k})`);
    }
    b.text(`,\n  SUM(g.n_)\nFROM (SELECT ${t} AS t_`);
    values(true);
    b.text(`, COUNT(*) AS n_ FROM ${first.table}`);
    where();
    b.text(` GROUP BY ${t}) AS g\nGROUP BY 1`);
  } else {
    b.text("SELECT ");
    search(t, 0, bounds.length - 1);
    b.text(" AS piece");
    values(false);
    b.text(`,\n  COUNT(*)\nFROM ${first.table}`);
    where();
    b.text("\nGROUP BY 1");
  }
  return {
    sql: b.sql,
    params: b.params,
    table: first.table,
    kpis: members.map((m) => m.kpi.name),
    bounds,
    timezone: instant ? "UTC" : timezone,
    instant,
    timeoutMs: Math.max(
      ...members.map((m) => m.request.definition.timeoutMs ?? defaultTimeoutMs),
    ),
    values: columns.reduce((n, c) => n + c.periods.length, 0),
    fallback: members.map((m) => m.request),
    columns,
  };
}

/**
 * Reads the rows of a series query back into values by key: each period
 * adds up the pieces it covers.
 *
 * @param query The planned query.
 * @param rows Its rows: piece, value columns, row count.
 * @param durationMs How long it took, copied onto each value.
 * @returns Values by `valueKey(name, period)`.
 */
export function readSeriesRows(
  query: SeriesSqlQuery,
  rows: readonly unknown[][],
  durationMs: number,
): Map<string, FetchedValue> {
  const out = new Map<string, FetchedValue>();
  const pieces = query.bounds.length - 1;
  const width = 2 + query.columns.reduce(
    (n, c) => n + (c.aggregation === "avg" || c.aggregation === "rate" ? 2 : 1),
    0,
  );
  const byPiece: (unknown[] | undefined)[] = new Array(pieces);
  let shapeError: string | null = null;
  for (const row of rows) {
    const piece = Number(row[0]);
    if (
      row.length !== width || !Number.isInteger(piece) || piece < 0 ||
      piece >= pieces
    ) {
      shapeError = `Query returned a row of ${row.length} columns for piece ${
        String(row[0])
      }; expected ${width} columns and a piece from 0 to ${pieces - 1}`;
      break;
    }
    byPiece[piece] = row;
  }
  const index = new Map(query.bounds.map((day, j) => [day, j]));
  const table = query.table.replace(/["`]/g, "");
  for (const column of query.columns) {
    for (const period of column.periods) {
      const key = valueKey(column.name, period);
      if (shapeError !== null) {
        out.set(key, { value: null, error: shapeError, durationMs });
        continue;
      }
      const from = index.get(period.start) as number;
      const to = index.get(period.end) as number;
      let sum = 0;
      let count = 0;
      let rowCount = 0;
      let error: string | null = null;
      let latest: number | null = null;
      if (column.aggregation === "last") {
        // The latest piece with a value: pieces are in time order.
        for (let j = to - 1; j >= from && error === null; j--) {
          const row = byPiece[j];
          if (!row) continue;
          rowCount += Number(toNumber(row[width - 1]).value ?? 0);
          if (latest !== null) continue;
          const a = toNumber(row[column.first]);
          error = a.error;
          latest = a.value;
        }
      }
      for (
        let j = from;
        j < to && error === null && column.aggregation !== "last";
        j++
      ) {
        const row = byPiece[j];
        if (!row) continue;
        const a = toNumber(row[column.first]);
        error = a.error;
        rowCount += Number(toNumber(row[width - 1]).value ?? 0);
        if (column.aggregation === "avg" || column.aggregation === "rate") {
          const c = toNumber(row[column.first + 1]);
          error ??= c.error;
          sum += a.value ?? 0;
          count += c.value ?? 0;
        } else {
          sum += a.value ?? 0;
        }
      }
      if (error !== null) {
        out.set(key, { value: null, error, durationMs });
        continue;
      }
      let value: number | null;
      if (column.aggregation === "last") value = latest;
      else if (
        column.aggregation === "sum" || column.aggregation === "count"
      ) {
        value = to - from === 1 ? sum : cleanNumber(sum);
      } else value = count === 0 ? null : cleanNumber(sum / count);
      const fetched: FetchedValue = { value, error: null, durationMs };
      if (value === null && rowCount === 0) {
        fetched.note =
          `No rows in ${table} from ${period.start} to ${period.end}`;
      }
      out.set(key, fetched);
    }
  }
  return out;
}

/**
 * Prints a series plan for people: per grouped query what it computes, its
 * SQL and parameters; the batches follow as the single-period planner
 * prints them.
 *
 * @param query A grouped query.
 * @param index Its number, from 1.
 * @param total How many queries the plan has.
 * @returns The text.
 */
export function formatSeriesQuery(
  query: SeriesSqlQuery,
  index: number,
  total: number,
): string {
  const dollar = /\$1\b/.test(query.sql);
  return [
    `-- Query ${index} of ${total}: series, table ${query.table}; KPIs: ${
      query.kpis.join(", ")
    }; ${query.values} values from ${query.bounds.length - 1} pieces, ${
      query.bounds[0]
    }..${query.bounds[query.bounds.length - 1]}`,
    `-- Time zone ${query.timezone}${
      query.instant ? " (a TIMESTAMP column: edges sent as UTC date-times)" : ""
    }, timeout ${query.timeoutMs} ms, read-only; each value adds up the pieces its period covers`,
    query.sql.trimEnd() + ";",
    `-- Parameters: ${
      query.params.map((value, i) =>
        `${dollar ? "$" : ""}${i + 1} = ${JSON.stringify(value)}`
      ).join(", ")
    }`,
    `-- If it fails: the single-period plan for ${query.kpis.length} KPIs`,
    "",
  ].join("\n");
}

function byTimezone(periods: readonly Period[]): Map<string, Period[]> {
  const out = new Map<string, Period[]>();
  for (const period of periods) {
    const list = out.get(period.timezone);
    if (list) list.push(period);
    else out.set(period.timezone, [period]);
  }
  return out;
}

/** The instant a day starts in a zone, as UTC `YYYY-MM-DD HH:MM:SS`. */
function utcMidnight(day: string, timezone: string): string {
  const { startMs } = periodInstants({
    label: day,
    start: day,
    end: day,
    timezone,
  });
  return new Date(startMs).toISOString().slice(0, 19).replace("T", " ");
}

/** The union of periods as disjoint `[start, end)` day ranges, in order. */
function mergeRanges(periods: readonly Period[]): [string, string][] {
  const sorted = [...periods].sort((a, b) =>
    a.start < b.start ? -1 : a.start > b.start ? 1 : 0
  );
  const out: [string, string][] = [];
  for (const { start, end } of sorted) {
    const last = out[out.length - 1];
    if (last && start <= last[1]) {
      if (end > last[1]) last[1] = end;
    } else out.push([start, end]);
  }
  return out;
}
