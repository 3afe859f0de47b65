import { cleanNumber, toNumber } from "../_numbers.ts";
import { type FetchedValue, valueKey } from "../_value_key.ts";
import { bucketTotals, timeIndexFor } from "./_time_index.ts";
import {
  foldIndexed,
  foldRanges,
  foldRows,
  isSortedTimes,
  type RangeFold,
  type TimeColumn,
} from "./_fold_ranges.ts";
import { looksLikeTime, TimeCellReader } from "./_time_cells.ts";
import { MANY_RANGES } from "../series/_fold_buckets.ts";
import { periodInstants } from "../period/period_instants.ts";
import type {
  Aggregation,
  DataFrameInput,
  KPIDefinition,
  Period,
} from "../types.ts";

/** One in-memory KPI and every period its value is needed for. */
export interface DataFrameValueRequest {
  /** The KPI, with `source: "dataframe"` and `query: "table.column"`. */
  definition: KPIDefinition;
  /** The period and each comparison base. */
  periods: readonly Period[];
}

/**
 * Computes in-memory KPIs from tables of rows or columns. Each table's time
 * column is read once per call, every period of a KPI is folded in one pass,
 * and a time column found in ascending order is searched instead of scanned.
 *
 * Tables are treated as immutable between calls: a columnar table's parsed
 * time column and its sortedness are remembered per array, so pass a new
 * array after changing data.
 *
 * @param tables In-memory tables by name: arrays of row objects, or objects
 *   of equal-length columns (plain or typed arrays).
 * @param requests The KPIs and periods to compute.
 * @returns Values keyed by `valueKey(name, period)`; a KPI that cannot be
 *   computed carries an `error` instead of throwing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { valueKey } from "../_value_key.ts";
 * const period = { label: "2024-11", start: "2024-11-01", end: "2024-12-01", timezone: "UTC" };
 * const values = fetchDataFrameValues(
 *   { orders: [
 *     { amount: 10.1, day: "2024-11-02" },
 *     { amount: 20.2, day: "2024-11-30" },
 *     { amount: 99, day: "2024-12-01" },
 *   ] },
 *   [{ definition: { name: "revenue", source: "dataframe", query: "orders.amount", aggregation: "sum" }, periods: [period] }],
 * );
 * assert.equal(values.get(valueKey("revenue", period))?.value, 30.3);
 * ```
 */
export function fetchDataFrameValues(
  tables: Readonly<Record<string, DataFrameInput>>,
  requests: readonly DataFrameValueRequest[],
): Map<string, FetchedValue> {
  const out = new Map<string, FetchedValue>();
  const views = new Map<string, TableView>();
  for (const { definition, periods } of requests) {
    const started = performance.now();
    try {
      const { table, column } = splitQuery(definition);
      const input = tables[table];
      if (input === undefined) {
        const known = Object.keys(tables);
        throw new RangeError(
          `Unknown table "${table}" in query "${definition.query}": ` +
            (known.length
              ? `expected one of ${known.join(", ")}`
              : "no in-memory tables were given (pass `dataframes`)"),
        );
      }
      let view = views.get(table);
      if (view === undefined) {
        view = new TableView(table, input);
        views.set(table, view);
      }
      const aggregation = definition.aggregation ?? "sum";
      const folds = computeFolds(
        view,
        definition,
        column,
        aggregation,
        periods,
      );
      const durationMs = performance.now() - started;
      periods.forEach((period, i) => {
        out.set(valueKey(definition.name, period), {
          value: finish(aggregation, folds[i] as RangeFold),
          error: null,
          durationMs,
        });
      });
    } catch (error) {
      const durationMs = performance.now() - started;
      const message = error instanceof Error ? error.message : String(error);
      for (const period of periods) {
        out.set(valueKey(definition.name, period), {
          value: null,
          error: message,
          durationMs,
        });
      }
    }
  }
  return out;
}

function splitQuery(
  definition: KPIDefinition,
): { table: string; column: string } {
  const query = definition.query?.trim() ?? "";
  const dot = query.indexOf(".");
  if (dot <= 0 || dot === query.length - 1) {
    throw new TypeError(
      `Cannot read query "${query}" of KPI "${definition.name}": expected "table.column"`,
    );
  }
  return { table: query.slice(0, dot), column: query.slice(dot + 1) };
}

function computeFolds(
  view: TableView,
  definition: KPIDefinition,
  column: string,
  aggregation: Aggregation,
  periods: readonly Period[],
): RangeFold[] {
  const timeZone = periods[0]?.timezone ?? "UTC";
  const timeColumn = view.timeColumnName(definition.timeColumn);
  const starts: number[] = [];
  const ends: number[] = [];
  for (const period of periods) {
    const { startMs, endMs } = periodInstants(period);
    starts.push(startMs);
    ends.push(endMs);
  }
  const mode: ValueMode = aggregation === "rate" ? "truthy" : "numeric";
  const rows = view.rows;
  // A first run on row objects reads the cells in place; the row fold reads
  // numbers as they are, so only sums of numbers use it (a rate reads every
  // cell through toTruthy, from the columnar copy).
  if (
    rows !== null && mode === "numeric" && !view.rowsSeenBefore() &&
    periods.length <= MANY_RANGES
  ) {
    if (column !== "*") view.requireColumn(column);
    const reader = new TimeCellReader(timeZone);
    return foldRows(
      rows,
      timeColumn,
      (cell) => reader.read(cell),
      column === "*" ? null : column,
      toNumber,
      starts,
      ends,
      aggregation === "last",
    );
  }
  // Columns, or row objects seen before: their columnar copy.
  const times = view.times(timeColumn, timeZone);
  const values = column === "*" ? null : view.values(column, mode);
  if (!times.sorted) {
    const index = timeIndexFor(times.column, {
      build: rows !== null && view.rowsSeenBefore(),
    });
    if (index !== null) {
      return foldIndexed(
        index,
        times.column,
        values,
        values === null ? null : bucketTotals(times.column, index, values),
        starts,
        ends,
      );
    }
  }
  return foldRanges(
    times.column,
    values,
    starts,
    ends,
    times.sorted,
    aggregation !== "sum",
    aggregation === "last",
  );
}

function finish(aggregation: Aggregation, fold: RangeFold): number | null {
  switch (aggregation) {
    case "sum":
      return cleanNumber(fold.sum);
    case "count":
      return fold.count;
    case "avg":
    case "rate":
      return fold.count === 0 ? null : cleanNumber(fold.sum / fold.count);
    case "last":
      return fold.latest();
  }
}

type ValueMode = "numeric" | "truthy";

interface ParsedTimes {
  column: TimeColumn;
  sorted: boolean;
  length: number;
  timeZone: string;
}

const parsedTimeCache = new WeakMap<object, ParsedTimes>();
const parsedValueCache = new WeakMap<object, Map<ValueMode, Float64Array>>();

/** A uniform view of rows or columns, with per-call caches. */
/**
 * Columnar copies of arrays of row objects, made on their second run and
 * kept as long as the array (8 bytes per row per column read), together
 * with the length it had.
 */
const rowCopies = new WeakMap<object, {
  length: number;
  times: Map<string, ParsedTimes>;
  values: Map<string, Float64Array>;
}>();

class TableView {
  readonly #name: string;
  readonly #rows: readonly Record<string, unknown>[] | null;
  #rowsSeen = false;
  readonly #columns: Record<string, ArrayLike<unknown>> | null;
  readonly #length: number;
  readonly #times = new Map<string, ParsedTimes>();
  readonly #values = new Map<string, ArrayLike<number>>();

  constructor(name: string, input: DataFrameInput) {
    this.#name = name;
    if (Array.isArray(input)) {
      this.#rows = input as readonly Record<string, unknown>[];
      this.#columns = null;
      this.#length = input.length;
      const copy = rowCopies.get(input);
      if (copy && copy.length === input.length) this.#rowsSeen = true;
      else {
        rowCopies.set(input, {
          length: input.length,
          times: new Map(),
          values: new Map(),
        });
      }
    } else if (input !== null && typeof input === "object") {
      this.#rows = null;
      this.#columns = input as Record<string, ArrayLike<unknown>>;
      const lengths = new Set<number | undefined>(
        Object.values(this.#columns).map((c) =>
          typeof c?.length === "number" ? c.length : undefined
        ),
      );
      if (lengths.size > 1 || lengths.has(undefined)) {
        throw new TypeError(
          `Table "${name}" has columns of different lengths or a column that is not an array`,
        );
      }
      this.#length = lengths.values().next().value ?? 0;
    } else {
      throw new TypeError(
        `Table "${name}" must be an array of rows or an object of columns`,
      );
    }
  }

  /**
   * Whether the rows were run on before with the same length: their
   * columnar copy is then used (and made, the first time).
   */
  rowsSeenBefore(): boolean {
    return this.#rowsSeen;
  }

  /** The rows, when the table is an array of row objects. */
  get rows(): readonly Record<string, unknown>[] | null {
    return this.#rows;
  }

  /** Throws unless the table has the column. */
  requireColumn(name: string): void {
    const names = this.columnNames();
    if (!names.includes(name)) {
      throw new RangeError(
        `Unknown column "${name}" in table "${this.#name}": expected one of ${
          names.join(", ")
        }`,
      );
    }
  }

  columnNames(): string[] {
    if (this.#columns) return Object.keys(this.#columns);
    const names = new Set<string>();
    for (const row of this.#rows!.slice(0, 100)) {
      for (const key of Object.keys(row)) names.add(key);
    }
    return [...names];
  }

  timeColumnName(wanted: string | undefined): string {
    const names = this.columnNames();
    if (wanted !== undefined) {
      if (!names.includes(wanted)) {
        throw new RangeError(
          `Unknown time column "${wanted}" in table "${this.#name}": expected one of ${
            names.join(", ")
          }`,
        );
      }
      return wanted;
    }
    const found = names.filter((name) => looksLikeTime(this.#firstCell(name)));
    if (found.length === 1) return found[0] as string;
    throw new RangeError(
      found.length === 0
        ? `Table "${this.#name}" has no column of dates: set time_column`
        : `Table "${this.#name}" has several date columns (${
          found.join(", ")
        }): set time_column`,
    );
  }

  times(name: string, timeZone: string): ParsedTimes {
    const key = `${name}\u0000${timeZone}`;
    const known = this.#times.get(key);
    if (known) return known;
    const copy = this.#rows ? rowCopies.get(this.#rows) : undefined;
    const parsed = this.#columns
      ? this.#parseColumnTimes(
        this.#columns[name] as ArrayLike<unknown>,
        timeZone,
      )
      : copy?.times.get(key) ?? this.#parseRowTimes(name, timeZone);
    copy?.times.set(key, parsed);
    this.#times.set(key, parsed);
    return parsed;
  }

  values(name: string, mode: ValueMode): ArrayLike<number> {
    const key = `${name}\u0000${mode}`;
    const known = this.#values.get(key);
    if (known) return known;
    let values: ArrayLike<number>;
    if (this.#columns) {
      const column = this.#columns[name];
      if (column === undefined) {
        throw new RangeError(
          `Unknown column "${name}" in table "${this.#name}": expected one of ${
            Object.keys(this.#columns).join(", ")
          }`,
        );
      }
      values = materializeColumn(column, mode);
    } else {
      if (!this.columnNames().includes(name)) {
        throw new RangeError(
          `Unknown column "${name}" in table "${this.#name}": expected one of ${
            this.columnNames().join(", ")
          }`,
        );
      }
      const rows = this.#rows!;
      const copy = rowCopies.get(rows);
      let out = copy?.values.get(key);
      if (out === undefined) {
        out = new Float64Array(rows.length);
        const read = mode === "truthy" ? toTruthy : toNumber;
        for (let i = 0; i < rows.length; i++) {
          out[i] = read((rows[i] as Record<string, unknown>)[name]);
        }
        copy?.values.set(key, out);
      }
      values = out;
    }
    this.#values.set(key, values);
    return values;
  }

  #firstCell(name: string): unknown {
    if (this.#columns) {
      const column = this.#columns[name] as ArrayLike<unknown>;
      for (let i = 0; i < column.length; i++) {
        if (column[i] !== null && column[i] !== undefined) return column[i];
      }
      return undefined;
    }
    for (const row of this.#rows!) {
      const cell = row[name];
      if (cell !== null && cell !== undefined) return cell;
    }
    return undefined;
  }

  #parseColumnTimes(
    column: ArrayLike<unknown>,
    timeZone: string,
  ): ParsedTimes {
    const cached = parsedTimeCache.get(column as object);
    if (
      cached && cached.length === column.length && cached.timeZone === timeZone
    ) return cached;
    let times: TimeColumn;
    let sorted: boolean | undefined;
    if (column instanceof Float64Array) {
      times = column;
    } else if (
      ArrayBuffer.isView(column) && !(column instanceof BigInt64Array) &&
      !(column instanceof BigUint64Array)
    ) {
      times = column as unknown as ArrayLike<number>;
    } else {
      // Parsed and checked for order in the same pass.
      const reader = new TimeCellReader(timeZone);
      const out = new Float64Array(column.length);
      let previous = -Infinity;
      let inOrder = true;
      for (let i = 0; i < column.length; i++) {
        const t = reader.read(column[i]);
        out[i] = t;
        if (!(t >= previous)) inOrder = false;
        previous = t;
      }
      times = out;
      sorted = inOrder;
    }
    const parsed = {
      column: times,
      sorted: sorted ?? isSortedTimes(times),
      length: column.length,
      timeZone,
    };
    parsedTimeCache.set(column as object, parsed);
    return parsed;
  }

  #parseRowTimes(name: string, timeZone: string): ParsedTimes {
    const rows = this.#rows!;
    const reader = new TimeCellReader(timeZone);
    const out = new Float64Array(rows.length);
    let sorted = true;
    let previous = -Infinity;
    for (let i = 0; i < rows.length; i++) {
      const t = reader.read((rows[i] as Record<string, unknown>)[name]);
      out[i] = t;
      if (!(t >= previous)) sorted = false;
      previous = t;
    }
    return { column: out, sorted, length: rows.length, timeZone };
  }
}

function materializeColumn(
  column: ArrayLike<unknown>,
  mode: ValueMode,
): ArrayLike<number> {
  if (
    mode === "numeric" && ArrayBuffer.isView(column) &&
    !(column instanceof BigInt64Array) && !(column instanceof BigUint64Array)
  ) {
    return column as unknown as ArrayLike<number>;
  }
  let byMode = parsedValueCache.get(column as object);
  const cached = byMode?.get(mode);
  if (cached && cached.length === column.length) return cached;
  const read = mode === "truthy" ? toTruthy : toNumber;
  const out = new Float64Array(column.length);
  for (let i = 0; i < column.length; i++) out[i] = read(column[i]);
  if (!byMode) {
    byMode = new Map();
    parsedValueCache.set(column as object, byMode);
  }
  byMode.set(mode, out);
  return out;
}

const FALSY_WORDS = new Set(["", "false", "f", "no", "n", "off"]);
/** A zero written out: `0`, `-0.00`, `.0`, `0e3`. */
const ZERO_TEXT = /^[-+]?(0+\.?0*|\.0+)(e[-+]?\d+)?$/i;

/**
 * 1 for a truthy cell, 0 for a falsy one, NaN for a missing one: false, any
 * zero (also written as text, "0.00") and the words "", "false", "f", "no",
 * "n" and "off" (any case) are falsy, every other value truthy. The SQL of a
 * structured `rate` applies the same rule (see `_sql_structured.ts`).
 */
function toTruthy(cell: unknown): number {
  if (cell === null || cell === undefined) return NaN;
  if (typeof cell === "number") return cell !== cell ? NaN : cell !== 0 ? 1 : 0;
  if (typeof cell === "bigint") return cell !== 0n ? 1 : 0;
  if (typeof cell === "string") {
    const text = cell.trim().toLowerCase();
    return FALSY_WORDS.has(text) || ZERO_TEXT.test(text) ? 0 : 1;
  }
  return cell ? 1 : 0;
}
