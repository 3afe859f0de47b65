/**
 * Private: what the SQL writer needs to know of each dialect: how it quotes
 * strings and names, which comments it reads, how a bound value is written
 * and which type keywords a bound value can be cast to.
 *
 * @module
 */

import type { SqlDialect } from "../types.ts";

/** The facts of one dialect. */
export interface DialectTraits {
  /** Quote around identifiers. */
  identifierQuote: '"' | "`";
  /** Whether unquoted names fold to upper case (quoted names are then written upper case). */
  upperCaseNames: boolean;
  /** Whether the first part of a qualified name may hold `-` (BigQuery project ids). */
  hyphenatedProject: boolean;
  /** Whether `#` starts a comment. */
  hashComments: boolean;
  /** Whether `--` needs whitespace after it to start a comment. */
  dashCommentNeedsSpace: boolean;
  /** Whether block comments nest. */
  nestedBlockComments: boolean;
  /** Whether `$$...$$` and `$tag$...$tag$` are strings. */
  dollarQuotes: boolean;
  /** Whether a backslash escapes the next character in every single-quoted string. */
  backslashEscapes: boolean;
  /** Whether a double-quoted token is a string rather than an identifier. */
  doubleQuotedStrings: boolean;
  /** Whether `[name]` is a quoted identifier. */
  bracketIdentifiers: boolean;
  /** Type keywords before a quoted variable that become a CAST, with the type written. */
  casts: Readonly<Record<string, string>>;
  /** Whether aggregates take `FILTER (WHERE ...)` (else `CASE WHEN` inside). */
  aggregateFilter: boolean;
  /**
   * Whether `last` is a one-row lookup per range (`ORDER BY t DESC LIMIT 1`)
   * rather than the greatest (time, value) pair folded into the scan.
   */
  lastByLookup: boolean;
  /**
   * Whether a fused query reads each period range in a SELECT of its own
   * (joined with `UNION ALL`) even without an index on the time column,
   * because the engine skips blocks by the min and max of a plain range
   * condition but not of an OR of ranges, and computes each aggregate's
   * input only over its own range's rows.
   */
  rangeByRange: boolean;
  /** Whether string concatenation is `CONCAT(a, b)` rather than `a || b`. */
  concatFunction: boolean;
  /** What follows a bound value inside a concatenation (`::text`). */
  textSuffix: (placeholder: string) => string;
  /** Whether booleans are bound as 1 and 0. */
  booleansAsNumbers: boolean;
  /** The placeholder of the `index`-th (1-based) bound value. */
  placeholder: (index: number, value: unknown) => string;
  /** Finds a driver-level parameter written in plain SQL text, or null. */
  driverParameter: (text: string) => string | null;
  /** Wraps a column so that AVG computes in floating point. */
  avgArgument: (column: string) => string;
  /** Makes a column usable as a truth value. */
  truthy: (column: string) => string;
}

const STANDARD_CASTS = {
  DATE: "DATE",
  TIMESTAMP: "TIMESTAMP",
  TIMESTAMPTZ: "TIMESTAMPTZ",
  TIME: "TIME",
  INTERVAL: "INTERVAL",
};

const question = (text: string): string | null =>
  text.includes("?") ? "?" : null;

const same = (column: string) => column;

/** The ClickHouse type a JavaScript value is bound as. */
export function clickhouseType(value: unknown): string {
  if (typeof value === "boolean") return "Bool";
  if (typeof value === "bigint") return "Int64";
  if (typeof value === "number") {
    return Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER
      ? "Int64"
      : "Float64";
  }
  if (value === null || value === undefined) return "Nullable(String)";
  return "String";
}

const BASE: DialectTraits = {
  identifierQuote: '"',
  upperCaseNames: false,
  hyphenatedProject: false,
  hashComments: false,
  dashCommentNeedsSpace: false,
  nestedBlockComments: false,
  dollarQuotes: false,
  backslashEscapes: false,
  doubleQuotedStrings: false,
  bracketIdentifiers: false,
  casts: STANDARD_CASTS,
  aggregateFilter: true,
  lastByLookup: false,
  rangeByRange: false,
  concatFunction: false,
  textSuffix: () => "",
  booleansAsNumbers: false,
  placeholder: () => "?",
  driverParameter: question,
  avgArgument: same,
  truthy: same,
};

const TRAITS: Readonly<Record<SqlDialect, DialectTraits>> = {
  sqlite: {
    ...BASE,
    bracketIdentifiers: true,
    casts: {},
    booleansAsNumbers: true,
    driverParameter: (text) => {
      if (text.includes("?")) return "?";
      const m = /(^|[^A-Za-z0-9_:])([:@$][A-Za-z_][A-Za-z0-9_]*)/.exec(text);
      return m ? (m[2] as string) : null;
    },
  },
  postgres: {
    ...BASE,
    nestedBlockComments: true,
    dollarQuotes: true,
    textSuffix: () => "::text",
    placeholder: (index) => `$${index}`,
    driverParameter: (text) => {
      const m = /(^|[^A-Za-z0-9_$])(\$\d+)/.exec(text);
      return m ? (m[2] as string) : null;
    },
    truthy: (column) => `CAST(${column} AS BOOLEAN)`,
  },
  mysql: {
    ...BASE,
    identifierQuote: "`",
    hashComments: true,
    dashCommentNeedsSpace: true,
    backslashEscapes: true,
    doubleQuotedStrings: true,
    casts: { DATE: "DATE", TIMESTAMP: "DATETIME", TIME: "TIME" },
    aggregateFilter: false,
    concatFunction: true,
    booleansAsNumbers: true,
    avgArgument: (column) => `${column} + 0e0`,
  },
  duckdb: {
    ...BASE,
    // A one-row lookup per range beats a (time, value) list maximum folded
    // into the scan (measured in bench/warehouse_bench.ts).
    lastByLookup: true,
    // An OR of ranges defeats its min/max pruning: the wide form read all
    // 10 M rows of the warehouse bench where its ranges hold 0.8 M, and
    // computed every range's aggregate inputs for every row read.
    rangeByRange: true,
    dollarQuotes: true,
    textSuffix: () => "::VARCHAR",
    driverParameter: (text) => {
      if (text.includes("?")) return "?";
      const m = /(^|[^A-Za-z0-9_$])(\$(\d+|[A-Za-z_][A-Za-z0-9_]*))/.exec(text);
      return m ? (m[2] as string) : null;
    },
  },
  clickhouse: {
    ...BASE,
    backslashEscapes: true,
    casts: { DATE: "Date", TIMESTAMP: "DateTime" },
    placeholder: (index, value) => `{p${index}:${clickhouseType(value)}}`,
    driverParameter: (text) => {
      const m = /\{\s*[A-Za-z_][A-Za-z0-9_]*\s*:[^{}]*\}/.exec(text);
      return m ? m[0] : null;
    },
  },
  bigquery: {
    ...BASE,
    identifierQuote: "`",
    hyphenatedProject: true,
    hashComments: true,
    backslashEscapes: true,
    doubleQuotedStrings: true,
    casts: {
      DATE: "DATE",
      TIMESTAMP: "TIMESTAMP",
      DATETIME: "DATETIME",
      TIME: "TIME",
    },
    aggregateFilter: false,
    lastByLookup: true,
    placeholder: (index) => `@p${index}`,
    driverParameter: (text) => {
      if (text.includes("?")) return "?";
      const m = /(^|[^A-Za-z0-9_@])(@[A-Za-z_][A-Za-z0-9_]*)/.exec(text);
      return m ? (m[2] as string) : null;
    },
  },
  snowflake: {
    ...BASE,
    upperCaseNames: true,
    dollarQuotes: true,
    backslashEscapes: true,
    casts: {
      DATE: "DATE",
      TIMESTAMP: "TIMESTAMP",
      TIMESTAMPTZ: "TIMESTAMP_TZ",
      TIMESTAMP_TZ: "TIMESTAMP_TZ",
      TIMESTAMP_NTZ: "TIMESTAMP_NTZ",
      TIMESTAMP_LTZ: "TIMESTAMP_LTZ",
      TIME: "TIME",
    },
    aggregateFilter: false,
    lastByLookup: true,
  },
};

/** Every dialect the engine writes. */
export const SQL_DIALECTS: readonly SqlDialect[] = Object.keys(
  TRAITS,
) as SqlDialect[];

/** The facts of one dialect. */
export function dialectTraits(dialect: SqlDialect): DialectTraits {
  const traits = TRAITS[dialect];
  if (!traits) {
    throw new RangeError(
      `Unknown SQL dialect "${dialect}": expected one of ${
        SQL_DIALECTS.join(", ")
      }`,
    );
  }
  return traits;
}
