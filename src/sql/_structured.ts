/**
 * Private: writes the SQL of structured KPIs (`table`, `column`,
 * `aggregation`, `time_column`, `filter`) for each dialect, one SELECT per
 * period range, each computing every KPI of the table, joined with
 * `UNION ALL`.
 *
 * @module
 */

import type {
  Aggregation,
  KPIDefinition,
  Period,
  SqlDialect,
} from "../types.ts";
import { AGGREGATIONS } from "../types.ts";
import { type ParsedTemplate, parseTemplate, SqlBuilder } from "./_template.ts";
import { dialectTraits } from "./_dialects.ts";

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PROJECT_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** Quotes one plain identifier for the dialect. */
export function quoteName(name: string, dialect: SqlDialect): string {
  const traits = dialectTraits(dialect);
  const q = traits.identifierQuote;
  return `${q}${traits.upperCaseNames ? name.toUpperCase() : name}${q}`;
}

/**
 * Checks and quotes a possibly schema-qualified name (`analytics.orders`).
 *
 * @throws {RangeError} When a part is not a plain name.
 */
export function quoteQualified(
  name: string,
  dialect: SqlDialect,
  field: string,
  allowQualified: boolean,
): string {
  const parts = name.split(".");
  const project = dialectTraits(dialect).hyphenatedProject &&
    parts.length === 3;
  const ok =
    parts.every((part, i) =>
      PLAIN_NAME.test(part) || (project && i === 0 && PROJECT_NAME.test(part))
    ) && parts.length <= (allowQualified ? 3 : 1);
  if (!ok) {
    throw new RangeError(
      `Invalid ${field} "${name}": expected a plain name of letters, digits and underscores${
        allowQualified
          ? ", optionally schema-qualified such as analytics.orders"
          : ""
      }`,
    );
  }
  return parts.map((part) => quoteName(part, dialect)).join(".");
}

/** DuckDB table functions that read files in place. */
const FILE_READERS = [
  "read_parquet",
  "read_csv",
  "read_csv_auto",
  "read_json",
  "read_json_auto",
];

const FILE_SOURCE = new RegExp(
  `^(?:(${
    FILE_READERS.join("|")
  })\\s*\\(\\s*)?'([^'\\\\\u0000]+)'(?:\\s*\\))?$`,
  "i",
);

/**
 * The table a structured KPI reads: a (qualified) name, or on DuckDB a file
 * read in place, `read_parquet('events/*.parquet')` or `'orders.csv'`.
 *
 * @throws {RangeError} When it is neither.
 */
function tableSource(table: string, dialect: SqlDialect): string {
  if (dialect === "duckdb" && table.includes("'")) {
    const m = FILE_SOURCE.exec(table);
    const reader = m?.[1];
    const path = m?.[2];
    const bare = m !== null && reader === undefined;
    if (
      m && path !== undefined &&
      (bare ? !/[()]/.test(table) : /\)\s*$/.test(table))
    ) {
      return reader === undefined
        ? `'${path}'`
        : `${reader.toLowerCase()}('${path}')`;
    }
    throw new RangeError(
      `Invalid table "${table}": expected a table name such as analytics.orders, or a file read in place such as read_parquet('events/*.parquet'), read_csv('orders.csv') or 'orders.parquet' (one quoted path without quotes or backslashes in it)`,
    );
  }
  return quoteQualified(table, dialect, "table", true);
}

/** A structured KPI, checked and ready to write SQL for. */
export interface StructuredKpi {
  /** KPI name. */
  name: string;
  /** Quoted table. */
  table: string;
  /** Quoted time column. */
  timeColumn: string;
  /** Quoted column, or `*`. */
  column: string;
  /** How rows fold. */
  aggregation: Aggregation;
  /** The parsed filter template, or null. */
  filter: ParsedTemplate | null;
}

/**
 * Checks a structured KPI definition and quotes its names.
 *
 * @throws {TypeError} When a needed field is missing.
 * @throws {RangeError} When a name, the aggregation or the filter is invalid.
 */
export function structuredKpi(
  definition: KPIDefinition,
  dialect: SqlDialect,
): StructuredKpi {
  const { name } = definition;
  const missing = (field: string) =>
    new TypeError(
      `Structured SQL KPI "${name}" has no \`${field}\`: set table, column, aggregation and time_column, or write a query`,
    );
  if (definition.table === undefined) throw missing("table");
  if (definition.column === undefined) throw missing("column");
  if (definition.timeColumn === undefined) throw missing("time_column");
  if (definition.aggregation === undefined) throw missing("aggregation");
  const aggregation = definition.aggregation;
  if (!AGGREGATIONS.includes(aggregation)) {
    throw new RangeError(
      `Invalid aggregation "${aggregation}" of KPI "${name}": expected one of ${
        AGGREGATIONS.join(", ")
      }`,
    );
  }
  const column = definition.column.trim();
  if (column === "*" && aggregation !== "count") {
    throw new RangeError(
      `Column "*" of KPI "${name}" only works with aggregation count, not "${aggregation}": name a column`,
    );
  }
  let filter: ParsedTemplate | null = null;
  if (definition.filter !== undefined && definition.filter.trim() !== "") {
    const parsed = parseTemplate(definition.filter, dialect);
    // Comments are dropped so that a `--` cannot swallow the SQL after it.
    filter = {
      ...parsed,
      parts: parsed.parts.map((part) =>
        part.kind === "comment" ? { kind: "sql", text: " " } : part
      ),
    };
    if (!filter.balanced || /;/.test(plainText(filter))) {
      throw new RangeError(
        `Invalid filter "${definition.filter}" of KPI "${name}": expected one SQL boolean expression with balanced parentheses and no ";"`,
      );
    }
  }
  return {
    name,
    table: tableSource(definition.table.trim(), dialect),
    timeColumn: quoteQualified(
      definition.timeColumn.trim(),
      dialect,
      "time_column",
      false,
    ),
    column: column === "*"
      ? "*"
      : quoteQualified(column, dialect, "column", false),
    aggregation,
    filter,
  };
}

function plainText(parsed: ParsedTemplate): string {
  return parsed.parts.map((part) => part.kind === "sql" ? part.text : "").join(
    "",
  );
}

/** The variables a filter sees in one range. */
export type RangeVars = (range: Period) => Readonly<Record<string, unknown>>;

/** Writes `WHERE`-style range condition `t >= ? AND t < ?`. */
function rangeCondition(
  b: SqlBuilder,
  timeColumn: string,
  range: Period,
): void {
  b.text(`${timeColumn} >= `).param(range.start).text(` AND ${timeColumn} < `)
    .param(range.end);
}

/** Writes `(filter)`. */
function filterText(
  b: SqlBuilder,
  kpi: StructuredKpi,
  vars: Readonly<Record<string, unknown>>,
): void {
  b.text("(").template(kpi.filter as ParsedTemplate, vars).text(")");
}

/** Writes one KPI's aggregate over the rows of the range. */
function aggregate(
  b: SqlBuilder,
  kpi: StructuredKpi,
  range: Period,
  vars: Readonly<Record<string, unknown>>,
): void {
  const { column, filter, dialect } = { ...kpi, dialect: b.dialect };
  /** The column, or NULL where the filter does not hold. */
  const filtered = (value: string) => {
    if (filter === null) b.text(value);
    else {
      b.text("CASE WHEN ");
      filterText(b, kpi, vars);
      b.text(` THEN ${value} END`);
    }
  };
  switch (kpi.aggregation) {
    case "sum":
      b.text("COALESCE(SUM(");
      filtered(column);
      b.text("), 0)");
      return;
    case "count":
      if (filter === null) b.text(`COUNT(${column})`);
      else {
        b.text("COUNT(");
        filtered(column === "*" ? "1" : column);
        b.text(")");
      }
      return;
    case "avg":
      b.text("AVG(");
      filtered(dialectTraits(dialect).avgArgument(column));
      b.text(")");
      return;
    case "rate": {
      const truthy = dialectTraits(dialect).truthy(column);
      b.text("AVG(");
      filtered(
        `CASE WHEN ${column} IS NULL THEN NULL WHEN ${truthy} THEN 1e0 ELSE 0e0 END`,
      );
      b.text(")");
      return;
    }
    case "last":
      b.text(`(SELECT ${column} FROM ${kpi.table} WHERE `);
      rangeCondition(b, kpi.timeColumn, range);
      b.text(` AND ${column} IS NOT NULL`);
      if (filter !== null) {
        b.text(" AND ");
        filterText(b, kpi, vars);
      }
      b.text(` ORDER BY ${kpi.timeColumn} DESC LIMIT 1)`);
      return;
  }
}

/** One KPI and the ranges (by index into the query's ranges) it needs. */
export interface StructuredItem {
  /** The KPI. */
  kpi: StructuredKpi;
  /** Indexes of the ranges it needs. */
  ranges: ReadonlySet<number>;
}

/**
 * Writes one query for KPIs sharing a table and time column: per range,
 * `SELECT <tag>, <kpi 1>, ..., COUNT(*) FROM table WHERE t >= ? AND t < ?`,
 * joined with `UNION ALL`. A KPI that does not need a range gets NULL there.
 */
export function structuredQuery(
  dialect: SqlDialect,
  items: readonly StructuredItem[],
  ranges: readonly Period[],
  varsFor: RangeVars,
): { sql: string; params: unknown[] } {
  const b = new SqlBuilder(dialect);
  const first = items[0];
  if (!first) throw new RangeError("A structured query needs at least one KPI");
  ranges.forEach((range, tag) => {
    if (tag > 0) b.text("\nUNION ALL\n");
    const vars = varsFor(range);
    b.text(`SELECT ${tag} AS p`);
    items.forEach((item, index) => {
      b.text(",\n  ");
      if (item.ranges.has(tag)) aggregate(b, item.kpi, range, vars);
      else b.text("NULL");
      b.text(` AS v${index + 1}`);
    });
    b.text(`,\n  COUNT(*) AS n\nFROM ${first.kpi.table}\nWHERE `);
    rangeCondition(b, first.kpi.timeColumn, range);
  });
  return { sql: b.sql, params: b.params };
}
