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
import {
  lexSql,
  type ParsedTemplate,
  parseTemplate,
  SqlBuilder,
} from "./_template.ts";
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
    const problem = filterProblem(definition.filter, dialect);
    if (problem !== null) {
      throw new RangeError(
        `Invalid filter "${definition.filter}" of KPI "${name}": ${problem}`,
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

/**
 * What is wrong with a structured KPI's filter, or null: it must be one SQL
 * boolean expression with balanced parentheses and no statement separator
 * (a `;` inside a quoted string or a comment is text, not a separator).
 *
 * @param filter The filter as written.
 * @param dialect The dialect whose quoting rules apply.
 * @returns The problem, or null.
 * @throws {SyntaxError} When the filter is not a valid template.
 */
export function filterProblem(
  filter: string,
  dialect: SqlDialect,
): string | null {
  const parsed = parseTemplate(filter, dialect);
  const separator = lexSql(filter, dialect).some((token) =>
    token.kind === "sql" && token.text.includes(";")
  );
  if (!parsed.balanced || separator) {
    return 'expected one SQL boolean expression with balanced parentheses and no ";" outside quoted strings';
  }
  return null;
}

/**
 * What is wrong with a table, column or time column name, or null. A table
 * (the qualified field) on DuckDB may also be a file read in place, as the
 * SQL writer accepts it.
 *
 * @param name The name as written.
 * @param field The field, for the message.
 * @param allowQualified Whether `schema.table` is accepted.
 * @param dialect The connection's dialect; PostgreSQL's rules by default.
 * @returns The problem, or null.
 */
export function nameProblem(
  name: string,
  field: string,
  allowQualified: boolean,
  dialect: SqlDialect = "postgres",
): string | null {
  try {
    if (allowQualified && dialect === "duckdb") {
      tableSource(name.trim(), dialect);
    } else quoteQualified(name.trim(), "postgres", field, allowQualified);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The variables a filter sees in one range. */
export type RangeVars = (range: Period) => Readonly<Record<string, unknown>>;

/**
 * The values a range's time condition compares with: by default its days as
 * written (`2024-11-01`), for date and wall-clock columns.
 */
export type RangeBounds = (range: Period) => readonly [unknown, unknown];

/** The days of the range as written. */
export const DAY_BOUNDS: RangeBounds = (range) => [range.start, range.end];

/** Writes `WHERE`-style range condition `t >= ? AND t < ?`. */
function rangeCondition(
  b: SqlBuilder,
  timeColumn: string,
  range: Period,
  bounds: RangeBounds,
): void {
  const [start, end] = bounds(range);
  b.text(`${timeColumn} >= `).param(start).text(` AND ${timeColumn} < `)
    .param(end);
}

/** Writes `(filter)`. */
function filterText(
  b: SqlBuilder,
  kpi: StructuredKpi,
  vars: Readonly<Record<string, unknown>>,
): void {
  b.text("(").template(kpi.filter as ParsedTemplate, vars).text(")");
}

/** The words a `rate` counts as false, besides false and zero. */
const FALSY_WORDS = "'', 'false', 'f', 'no', 'n', 'off'";
/** A zero written as text (`0`, `-0.00`, `.0`, `0e3`), without `?` or `$`. */
const ZERO_TEXT = "^[-+]{0,1}(0+[.]{0,1}0*|[.]0+)(e[-+]{0,1}[0-9]+){0,1}$";

/**
 * How each dialect with regular expressions writes a column as trimmed
 * lower-case text, and a test of that text against a pattern.
 */
const TEXT_TESTS: Partial<
  Record<SqlDialect, {
    text(column: string): string;
    matches(text: string, pattern: string): string;
  }>
> = {
  postgres: {
    text: (column) => `LOWER(TRIM(CAST(${column} AS TEXT)))`,
    matches: (text, pattern) => `${text} ~ ${pattern}`,
  },
  mysql: {
    text: (column) => `LOWER(TRIM(CAST(${column} AS CHAR)))`,
    matches: (text, pattern) => `${text} REGEXP ${pattern}`,
  },
  duckdb: {
    text: (column) => `LOWER(TRIM(CAST(${column} AS VARCHAR)))`,
    matches: (text, pattern) => `regexp_matches(${text}, ${pattern})`,
  },
  clickhouse: {
    text: (column) => `lower(trim(toString(${column})))`,
    matches: (text, pattern) => `match(${text}, ${pattern})`,
  },
  bigquery: {
    text: (column) => `LOWER(TRIM(CAST(${column} AS STRING)))`,
    matches: (text, pattern) => `REGEXP_CONTAINS(${text}, ${pattern})`,
  },
  snowflake: {
    text: (column) => `LOWER(TRIM(CAST(${column} AS VARCHAR)))`,
    matches: (text, pattern) => `REGEXP_LIKE(${text}, ${pattern})`,
  },
};

/**
 * `1e0` for a truthy value, `0e0` for a falsy one and NULL for a missing one,
 * by the in-memory rule: false, any zero (also as text, "0.00") and the words
 * "", "false", "f", "no", "n", "off" (any case) are falsy, all else truthy,
 * whatever the column's type (boolean, integer, decimal, double, text).
 */
function truthyCase(column: string, dialect: SqlDialect): string {
  const tests = TEXT_TESTS[dialect];
  let falsy: string;
  if (tests !== undefined) {
    const text = tests.text(column);
    falsy = `${text} IN (${FALSY_WORDS}) OR ${
      tests.matches(text, `'${ZERO_TEXT}'`)
    }`;
  } else {
    // SQLite has no REGEXP: numbers compare with 0; text that holds only
    // the characters of a number and reads as 0 is a zero.
    const text = `LOWER(TRIM(${column}))`;
    falsy =
      `CASE WHEN typeof(${column}) IN ('integer', 'real') THEN ${column} = 0 ` +
      `ELSE ${text} IN (${FALSY_WORDS}) OR (${text} GLOB '[-+.0]*' AND ${text} NOT GLOB '*[^-+.0-9e]*' AND CAST(${text} AS REAL) = 0) END`;
  }
  return `CASE WHEN ${column} IS NULL THEN NULL ${
    dialect === "duckdb" ? duckdbNumberTest(column) : ""
  }WHEN ${falsy} THEN 0e0 ELSE 1e0 END`;
}

/** DuckDB's boolean and number types, as `typeof` names them. */
const DUCKDB_NUMBER_TYPES = [
  "BOOLEAN",
  "TINYINT",
  "SMALLINT",
  "INTEGER",
  "BIGINT",
  "HUGEINT",
  "UTINYINT",
  "USMALLINT",
  "UINTEGER",
  "UBIGINT",
  "UHUGEINT",
  "FLOAT",
  "DOUBLE",
].map((type) => `'${type}'`).join(", ");

/**
 * On DuckDB, a boolean or number column is falsy exactly when it equals
 * zero (false, 0, 0.00, -0.0; NaN and infinities are truthy, as their text
 * is), so it skips the text and pattern test. `typeof` is known when the
 * query is bound, so each column takes one branch; the text test stays for
 * every other type.
 */
function duckdbNumberTest(column: string): string {
  return `WHEN typeof(${column}) IN (${DUCKDB_NUMBER_TYPES}) OR typeof(${column}) LIKE 'DECIMAL(%' ` +
    `THEN (CASE WHEN TRY_CAST(${column} AS DOUBLE) = 0 THEN 0e0 ELSE 1e0 END) `;
}

/**
 * Writes one aggregate function over the rows where every condition holds:
 * `FN(value) FILTER (WHERE ...)` on PostgreSQL and SQLite, `FN(CASE WHEN
 * ... THEN value END)` on MySQL, which has no `FILTER`.
 */
function fold(
  b: SqlBuilder,
  fn: string,
  value: string,
  conditions: readonly ((b: SqlBuilder) => void)[],
): void {
  const all = () =>
    conditions.forEach((condition, index) => {
      if (index > 0) b.text(" AND ");
      condition(b);
    });
  if (conditions.length === 0) b.text(`${fn}(${value})`);
  else if (!dialectTraits(b.dialect).aggregateFilter) {
    b.text(`${fn}(CASE WHEN `);
    all();
    b.text(` THEN ${value === "*" ? "1" : value} END)`);
  } else {
    b.text(`${fn}(${value}) FILTER (WHERE `);
    all();
    b.text(")");
  }
}

/**
 * Writes one KPI's aggregate over the rows of one range (or over every row
 * the query reads, when `range` is null), its filter applied. `vars` are
 * the filter's variables. `last` is folded in the same scan, unless
 * `lastFrom` names the range to look it up in through an index.
 */
export function aggregate(
  b: SqlBuilder,
  kpi: StructuredKpi,
  vars: Readonly<Record<string, unknown>>,
  range: Period | null,
  lastFrom: Period | null = null,
  bounds: RangeBounds = DAY_BOUNDS,
): void {
  const { column, filter, dialect } = { ...kpi, dialect: b.dialect };
  const conditions: ((b: SqlBuilder) => void)[] = [];
  if (range !== null) {
    conditions.push((b) => rangeCondition(b, kpi.timeColumn, range, bounds));
  }
  if (filter !== null) conditions.push((b) => filterText(b, kpi, vars));
  switch (kpi.aggregation) {
    case "sum":
      b.text("COALESCE(");
      fold(b, "SUM", column, conditions);
      b.text(", 0)");
      return;
    case "count":
      fold(b, "COUNT", column, conditions);
      return;
    case "avg":
      fold(
        b,
        "AVG",
        dialectTraits(dialect).avgArgument(column),
        conditions,
      );
      return;
    case "rate":
      fold(b, "AVG", truthyCase(column, dialect), conditions);
      return;
    case "last": {
      const lookup = lastFrom ??
        (dialectTraits(dialect).lastByLookup ? range : null);
      if (lookup !== null) {
        // Through an index on the time column: read backwards, one row
        // (and where the dialect has no (time, value) maximum).
        b.text(`(SELECT ${column} FROM ${kpi.table} WHERE `);
        rangeCondition(b, kpi.timeColumn, lookup, bounds);
        b.text(` AND ${column} IS NOT NULL`);
        if (filter !== null) {
          b.text(" AND ");
          filterText(b, kpi, vars);
        }
        b.text(` ORDER BY ${kpi.timeColumn} DESC LIMIT 1)`);
        return;
      }
      // The greatest (time, value) pair, folded in the same scan as the
      // other aggregates; ties on time go to the greater value.
      const t = kpi.timeColumn;
      const present = [
        ...conditions,
        (b: SqlBuilder) => b.text(`${column} IS NOT NULL`),
      ];
      if (dialect === "postgres") {
        b.text("(");
        fold(
          b,
          "MAX",
          `ARRAY[EXTRACT(EPOCH FROM ${t})::float8, ${column}::float8]`,
          present,
        );
        b.text(")[2]");
      } else if (dialect === "duckdb") {
        // Lists compare element by element, as PostgreSQL's arrays do.
        b.text("(");
        fold(
          b,
          "MAX",
          `[epoch(${t})::DOUBLE, ${column}::DOUBLE]`,
          present,
        );
        b.text(")[2]");
      } else if (dialect === "clickhouse") {
        // Tuples compare element by element; NULL when no row is present.
        b.text("(CASE WHEN ");
        fold(b, "COUNT", "*", present);
        b.text(" = 0 THEN NULL ELSE ");
        fold(b, "argMax", `${column}, (${t}, ${column})`, present);
        b.text(" END)");
      } else if (dialect === "mysql") {
        // A fixed-width time, then the value as text: read back exactly.
        b.text("SUBSTRING(");
        fold(
          b,
          "MAX",
          `CONCAT(DATE_FORMAT(${t}, '%Y%m%d%H%i%s%f'), ${column})`,
          present,
        );
        b.text(", 21)");
      } else {
        // SQLite compares ISO text times as text: the time, a separator
        // below every printable character, then the value's 17 digits.
        const latest = () =>
          fold(
            b,
            "MAX",
            `${t} || char(1) || printf('%!.17g', ${column})`,
            present,
          );
        b.text("substr(");
        latest();
        b.text(", instr(");
        latest();
        b.text(", char(1)) + 1)");
      }
      return;
    }
  }
}

/** One KPI and the ranges (by index into the query's ranges) it needs. */
export interface StructuredItem {
  /** The KPI. */
  kpi: StructuredKpi;
  /** Indexes of the ranges it needs. */
  ranges: ReadonlySet<number>;
}

/** The SQL of a structured query, and how its rows come back. */
export interface StructuredSql {
  /** The SQL, in the dialect's placeholder style. */
  sql: string;
  /** The bound values. */
  params: unknown[];
  /**
   * Whether the query returns one row holding every range's columns, range
   * after range (`v1_0, ..., n_0, v1_1, ...`), rather than one row per
   * range led by the range's tag.
   */
  wide: boolean;
}

/**
 * Writes one query for KPIs sharing a table and time column.
 *
 * Without an index on the time column the table is read once for every
 * range: `SELECT <kpi 1 in range 0>, ..., COUNT(*) FILTER (WHERE <range 0>),
 * <kpi 1 in range 1>, ... FROM table WHERE <range 0> OR <range 1> ...` (each
 * aggregate restricted with `FILTER`, or `CASE` on MySQL, `last` folded in
 * as the greatest (time, value) pair). With one (`timeIndexed`), each range
 * is read through the index: one `SELECT <tag>, <kpi 1>, ..., COUNT(*) FROM
 * table WHERE <range>` per range joined with `UNION ALL`, `last` a
 * one-row lookup down the index. DuckDB always takes the second form: it
 * skips row groups by their min and max under a plain range condition but
 * not under an OR of ranges. Either way a KPI that does not need a range
 * gets NULL there. A single range is always the plain `SELECT`.
 */
export function structuredQuery(
  dialect: SqlDialect,
  items: readonly StructuredItem[],
  ranges: readonly Period[],
  varsFor: RangeVars,
  options: { timeIndexed?: boolean; bounds?: RangeBounds } = {},
): StructuredSql {
  const b = new SqlBuilder(dialect);
  const first = items[0];
  if (!first) throw new RangeError("A structured query needs at least one KPI");
  const { table, timeColumn } = first.kpi;
  const indexed = options.timeIndexed ?? false;
  const bounds = options.bounds ?? DAY_BOUNDS;
  const wide = ranges.length > 1 && !indexed &&
    !dialectTraits(dialect).rangeByRange;
  if (wide) {
    b.text("SELECT ");
    ranges.forEach((range, tag) => {
      const vars = varsFor(range);
      items.forEach((item, index) => {
        if (tag > 0 || index > 0) b.text(",\n  ");
        if (item.ranges.has(tag)) {
          aggregate(b, item.kpi, vars, range, null, bounds);
        } else b.text("NULL");
        b.text(` AS v${index + 1}_${tag}`);
      });
      b.text(",\n  ");
      fold(b, "COUNT", "*", [
        (b) => rangeCondition(b, timeColumn, range, bounds),
      ]);
      b.text(` AS n_${tag}`);
    });
    b.text(`\nFROM ${table}\nWHERE `);
    const spans = mergeRanges(ranges);
    spans.forEach((range, index) => {
      if (index > 0) b.text(" OR ");
      if (spans.length > 1) b.text("(");
      rangeCondition(b, timeColumn, range, bounds);
      if (spans.length > 1) b.text(")");
    });
    return { sql: b.sql, params: b.params, wide };
  }
  ranges.forEach((range, tag) => {
    if (tag > 0) b.text("\nUNION ALL\n");
    const vars = varsFor(range);
    b.text(`SELECT ${tag} AS p`);
    items.forEach((item, index) => {
      b.text(",\n  ");
      if (item.ranges.has(tag)) {
        aggregate(
          b,
          item.kpi,
          vars,
          null,
          indexed || dialectTraits(dialect).lastByLookup ? range : null,
          bounds,
        );
      } else b.text("NULL");
      b.text(` AS v${index + 1}`);
    });
    b.text(`,\n  COUNT(*) AS n\nFROM ${table}\nWHERE `);
    rangeCondition(b, timeColumn, range, bounds);
  });
  return { sql: b.sql, params: b.params, wide };
}

/** The ranges in time order, touching ones joined (Oct and Nov: Oct 1..Dec 1). */
function mergeRanges(ranges: readonly Period[]): Period[] {
  const sorted = [...ranges].sort((a, b) => a.start < b.start ? -1 : 1);
  const out: Period[] = [];
  for (const range of sorted) {
    const last = out[out.length - 1];
    if (last && range.start <= last.end) {
      if (range.end > last.end) {
        out[out.length - 1] = { ...last, end: range.end };
      }
    } else out.push({ ...range });
  }
  return out;
}
