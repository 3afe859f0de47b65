/**
 * Fetches the segments of KPIs: runs the planned breakdown queries on a
 * SQL client (one per table) and groups in-memory tables, into additive
 * cells (`n`, `d`) per KPI, period range and dimension set.
 *
 * @module
 */

import { checkDeclaredDimension } from "./_declared_dimension.ts";
import { cleanNumber, toNumber as cellNumber } from "../_numbers.ts";
import { looksLikeTime, TimeCellReader } from "../dataframe/_time_cells.ts";
import { periodInstants } from "../period/period_instants.ts";
import { toNumber as sqlNumber } from "../sql/_result.ts";
import type {
  DataFrameInput,
  KPIDefinition,
  Period,
  SqlClient,
} from "../types.ts";
import {
  type PlannedSegmentQuery,
  planSegmentQueries,
  type PlanSegmentQueriesOptions,
  type SegmentRequest,
} from "./plan_segment_queries.ts";

/** One segment's additive parts in one range. */
export interface SegmentCell {
  /** The segment's value of each dimension of its set, in order. */
  values: (string | null)[];
  /** The additive part: a sum, a count, or a ratio's numerator. */
  n: number;
  /** The weight: rows, non-missing values, or 1 for a template's row. */
  d: number;
}

/** The cells of one KPI in one range by one dimension set. */
export interface SegmentCells {
  /** The dimensions of the set. */
  dimensions: string[];
  /** One cell per segment. */
  cells: SegmentCell[];
}

/** What a fetch found: cells by {@linkcode segmentDataKey}, and failures by KPI. */
export interface SegmentData {
  /** Cells by `segmentDataKey(kpi, range)`, each with every set fetched. */
  cells: Map<string, SegmentCells[]>;
  /** Why a KPI's segments could not be had, by name. */
  errors: Map<string, string>;
  /** How many queries were sent. */
  queries: number;
}

/** Key of one KPI's cells in one range. */
export function segmentDataKey(
  name: string,
  range: Pick<Period, "start" | "end">,
): string {
  return `${name}@${range.start}/${range.end}`;
}

/** Options of {@linkcode fetchSqlSegments}. */
export interface FetchSqlSegmentsOptions extends PlanSegmentQueriesOptions {
  /** Most queries in flight at once. @default 4 */
  maxConcurrency?: number;
}

/**
 * Runs the breakdown queries of SQL KPIs (see `planSegmentQueries`) and
 * reads their rows into cells. A KPI that fails carries its error; the
 * others still come back.
 *
 * @param client The database.
 * @param requests The KPIs and their periods.
 * @param sets The dimension sets to group by.
 * @param options Variables, timeouts, concurrency.
 * @returns The cells, the failures and the number of queries sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const client = {
 *   dialect: "sqlite" as const,
 *   query: () => Promise.resolve([[0, 0, "EU", 12.5, 3], [0, 0, null, 1, 1]]),
 *   close: () => Promise.resolve(),
 * };
 * const period = { label: "2024-11", start: "2024-11-01", end: "2024-12-01", timezone: "UTC" };
 * const data = await fetchSqlSegments(client, [{
 *   definition: { name: "revenue", source: "sql", table: "orders", column: "amount",
 *     aggregation: "sum", timeColumn: "day", dimensions: ["region"] },
 *   periods: [period],
 * }], [["region"]]);
 * assert.equal(data.queries, 1);
 * assert.deepEqual(data.cells.get(segmentDataKey("revenue", period))?.[0]?.cells, [
 *   { values: ["EU"], n: 12.5, d: 3 },
 *   { values: [null], n: 1, d: 1 },
 * ]);
 * ```
 */
export async function fetchSqlSegments(
  client: SqlClient,
  requests: readonly SegmentRequest[],
  sets: readonly (readonly string[])[],
  options: FetchSqlSegmentsOptions = {},
): Promise<SegmentData> {
  const { queries, failures } = planSegmentQueries(
    client.dialect,
    requests,
    sets,
    options,
  );
  const data: SegmentData = {
    cells: new Map(),
    errors: new Map(failures),
    queries: 0,
  };
  const max = options.maxConcurrency ?? 4;
  let next = 0;
  const worker = async () => {
    while (next < queries.length) {
      const query = queries[next++] as PlannedSegmentQuery;
      data.queries++;
      try {
        const rows = await client.query(query.sql, query.params, {
          timeoutMs: query.timeoutMs,
          timezone: query.timezone,
        });
        readSegmentRows(query, rows, data);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        for (const name of query.kpis) data.errors.set(name, message);
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(max, queries.length) }, worker),
  );
  return data;
}

function push(
  data: SegmentData,
  key: string,
  dimensions: string[],
): SegmentCells {
  let list = data.cells.get(key);
  if (!list) data.cells.set(key, list = []);
  const id = dimensions.join("\u0000");
  let found = list.find((s) => s.dimensions.join("\u0000") === id);
  if (!found) list.push(found = { dimensions, cells: [] });
  return found;
}

function text(cell: unknown): string | null {
  if (cell === null || cell === undefined) return null;
  if (cell instanceof Date) return cell.toISOString();
  return String(cell);
}

function readSegmentRows(
  query: PlannedSegmentQuery,
  rows: readonly unknown[][],
  data: SegmentData,
): void {
  if (query.kind === "template") {
    const name = query.kpis[0] as string;
    const dims = query.dimensions;
    const width = 1 + dims.length + 1;
    const bySegment = query.ranges.map(() => new Set<string>());
    const found = query.ranges.map((range) =>
      push(data, segmentDataKey(name, range), dims)
    );
    for (const row of rows) {
      if (row.length !== width) {
        data.errors.set(
          name,
          `Query of KPI "${name}" returned rows of ${
            row.length - 1
          } columns; with dimensions [${dims.join(", ")}] it must return ${
            dims.length + 1
          } columns, one row per segment: the dimension columns first (${
            dims.join(", ")
          }), the value last`,
        );
        return;
      }
      const tag = Number(row[0]);
      const values = row.slice(1, 1 + dims.length).map(text);
      const read = sqlNumber(row[width - 1]);
      if (read.error !== null) {
        data.errors.set(
          name,
          `${read.error} in the last column of query of KPI "${name}" (the value of segment ${
            JSON.stringify(values)
          })`,
        );
        return;
      }
      const id = JSON.stringify(values);
      if (bySegment[tag]?.has(id)) {
        data.errors.set(
          name,
          `Query of KPI "${name}" returned segment ${id} twice; return one row per segment (GROUP BY ${
            dims.join(", ")
          })`,
        );
        return;
      }
      bySegment[tag]?.add(id);
      if (read.value !== null) {
        found[tag]?.cells.push({ values, n: read.value, d: 1 });
      }
    }
    return;
  }
  const dims = query.dimensions;
  for (const row of rows) {
    const range = query.ranges[Number(row[0])];
    const set = query.sets[Number(row[1])];
    if (!range || !set) continue;
    const values = set.map((d) => text(row[2 + dims.indexOf(d)]));
    query.kpis.forEach((name, k) => {
      const n = sqlNumber(row[2 + dims.length + 2 * k]).value ?? 0;
      const d = sqlNumber(row[3 + dims.length + 2 * k]).value ?? 0;
      push(data, segmentDataKey(name, range), set).cells.push({
        values,
        n,
        d,
      });
    });
  }
  // Ranges and sets without rows still have (empty) cells.
  for (const name of query.kpis) {
    for (const range of query.ranges) {
      for (const set of query.sets) {
        push(data, segmentDataKey(name, range), set);
      }
    }
  }
}

/**
 * Groups in-memory tables by each dimension set over each period, in one
 * pass over each KPI's rows.
 *
 * @param tables In-memory tables by name (rows or columns).
 * @param requests The KPIs (`source: dataframe`) and their periods.
 * @param sets The dimension sets to group by.
 * @returns The cells and the failures.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const period = { label: "2024-11", start: "2024-11-01", end: "2024-12-01", timezone: "UTC" };
 * const data = groupDataFrameSegments({ orders: [
 *   { day: "2024-11-02", amount: 10, region: "EU" },
 *   { day: "2024-11-03", amount: 5, region: "EU" },
 *   { day: "2024-11-04", amount: 7, region: null },
 * ] }, [{
 *   definition: { name: "revenue", source: "dataframe", query: "orders.amount",
 *     aggregation: "sum", timeColumn: "day", dimensions: ["region"] },
 *   periods: [period],
 * }], [["region"]]);
 * assert.deepEqual(data.cells.get(segmentDataKey("revenue", period))?.[0]?.cells, [
 *   { values: ["EU"], n: 15, d: 2 },
 *   { values: [null], n: 7, d: 1 },
 * ]);
 * ```
 */
export function groupDataFrameSegments(
  tables: Readonly<Record<string, DataFrameInput>>,
  requests: readonly SegmentRequest[],
  sets: readonly (readonly string[])[],
): SegmentData {
  const data: SegmentData = { cells: new Map(), errors: new Map(), queries: 0 };
  for (const { definition, periods } of requests) {
    try {
      groupOne(tables, definition, periods, sets, data);
    } catch (error) {
      data.errors.set(
        definition.name,
        error instanceof Error ? error.message : String(error),
      );
    }
  }
  return data;
}

function groupOne(
  tables: Readonly<Record<string, DataFrameInput>>,
  definition: KPIDefinition,
  periods: readonly Period[],
  sets: readonly (readonly string[])[],
  data: SegmentData,
): void {
  const query = definition.query?.trim() ?? "";
  const dot = query.indexOf(".");
  const table = query.slice(0, dot);
  const column = query.slice(dot + 1);
  const input = tables[table];
  if (dot <= 0 || input === undefined) {
    throw new RangeError(
      `Unknown table "${table}" in query "${query}": expected one of ${
        Object.keys(tables).join(", ") || "(no in-memory tables were given)"
      }`,
    );
  }
  const rows = Array.isArray(input) ? input as Record<string, unknown>[] : null;
  const columns = rows ? null : input as Record<string, ArrayLike<unknown>>;
  const length = rows
    ? rows.length
    : Object.values(columns ?? {})[0]?.length ?? 0;
  const names = columns
    ? Object.keys(columns)
    : [...new Set((rows ?? []).slice(0, 100).flatMap((r) => Object.keys(r)))];
  const cell = (name: string, i: number): unknown =>
    rows ? rows[i]?.[name] : columns?.[name]?.[i];
  for (const set of sets) {
    for (const dimension of set) {
      checkDeclaredDimension(definition, dimension);
      if (!names.includes(dimension)) {
        throw new RangeError(
          `Unknown dimension column "${dimension}" in table "${table}": expected one of ${
            names.join(", ")
          }`,
        );
      }
    }
  }
  if (column !== "*" && !names.includes(column)) {
    throw new RangeError(
      `Unknown column "${column}" in table "${table}": expected one of ${
        names.join(", ")
      }`,
    );
  }
  const aggregation = definition.aggregation ?? "sum";
  if (aggregation === "last") {
    throw new RangeError(
      `KPI "${definition.name}" folds rows with "last", which cannot be broken down: use sum, count, avg or rate`,
    );
  }
  let timeColumn = definition.timeColumn;
  if (timeColumn === undefined) {
    const found = names.filter((name) => {
      for (let i = 0; i < Math.min(length, 100); i++) {
        const c = cell(name, i);
        if (c !== null && c !== undefined) return looksLikeTime(c);
      }
      return false;
    });
    if (found.length !== 1) {
      throw new RangeError(
        `Table "${table}" has ${
          found.length === 0 ? "no column of dates" : "several date columns"
        }: set time_column`,
      );
    }
    timeColumn = found[0] as string;
  }
  const zone = periods[0]?.timezone ?? "UTC";
  const reader = new TimeCellReader(zone);
  const bounds = periods.map((p) => periodInstants(p));
  // Per range and set: segment id -> cell.
  const groups = periods.map(() =>
    sets.map(() => new Map<string, SegmentCell & { c: number }>())
  );
  for (let i = 0; i < length; i++) {
    const t = reader.read(cell(timeColumn, i));
    if (t !== t) continue;
    let n = 1;
    let d = 1;
    if (column !== "*") {
      const raw = cell(column, i);
      const missing = raw === null || raw === undefined ||
        (typeof raw === "number" && raw !== raw);
      if (aggregation === "rate") {
        n = missing ? 0 : truthy(raw);
        d = missing ? 0 : 1;
      } else if (aggregation === "count") {
        n = missing ? 0 : 1;
      } else {
        const v = cellNumber(raw);
        n = v === v ? v : 0;
        d = v === v ? 1 : 0;
      }
    }
    for (let r = 0; r < bounds.length; r++) {
      const { startMs, endMs } = bounds[r]!;
      if (!(t >= startMs && t < endMs)) continue;
      sets.forEach((set, s) => {
        const values = set.map((dim) => text(cell(dim, i)));
        const id = JSON.stringify(values);
        const map = groups[r]![s]!;
        const found = map.get(id);
        if (found) {
          // Neumaier-compensated, so that cents add up to the cent.
          const next = found.n + n;
          found.c += Math.abs(found.n) >= Math.abs(n)
            ? (found.n - next) + n
            : (n - next) + found.n;
          found.n = next;
          found.d += d;
        } else map.set(id, { values, n, d, c: 0 });
      });
    }
  }
  periods.forEach((range, r) => {
    sets.forEach((set, s) => {
      push(data, segmentDataKey(definition.name, range), [...set]).cells.push(
        ...[...groups[r]![s]!.values()].map(({ values, n, d, c }) => ({
          values,
          n: cleanNumber(n + c),
          d,
        })),
      );
    });
  });
}

const FALSY_WORDS = new Set(["", "0", "false", "f", "no", "n", "off"]);

function truthy(cell: unknown): number {
  if (typeof cell === "string") {
    return FALSY_WORDS.has(cell.trim().toLowerCase()) ? 0 : 1;
  }
  return cell ? 1 : 0;
}
