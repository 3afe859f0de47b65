/**
 * Plans the SQL a run sends: which queries, with which text and parameters,
 * compute which KPI values. Planning is pure; {@linkcode fetchSqlValues}
 * runs the plan and `--explain` prints it.
 *
 * @module
 */

import type { KPIDefinition, Period, SqlDialect } from "../types.ts";
import { valueKey } from "../_value_key.ts";
import {
  checkVariables,
  type ParsedTemplate,
  SqlBuilder,
} from "./_template.ts";
import {
  DAY_BOUNDS,
  type RangeBounds,
  type StructuredItem,
  type StructuredKpi,
  structuredKpi,
  structuredQuery,
} from "./_structured.ts";
import { periodInstants } from "../period/period_instants.ts";
import {
  DEFAULT_TIMEOUT_MS,
  parseKpiTemplate,
  taggedTemplateUnion,
  templateVariables,
  uniquePeriods,
} from "./_plan_common.ts";

/** One SQL KPI and the periods it is needed for. */
export interface SqlValueRequest {
  /** The KPI (`source: sql`). */
  definition: KPIDefinition;
  /** The period itself and each comparison base. */
  periods: readonly Period[];
}

/** Options of {@linkcode planSqlQueries}. */
export interface PlanSqlQueriesOptions {
  /** Template variables besides `period_start` and `period_end`. @default {} */
  vars?: Readonly<Record<string, string | number | boolean>>;
  /**
   * Whether to fuse: each template KPI in one query for all its periods, and
   * structured KPIs of one table in one query for all their periods. When
   * false, one query per KPI per period.
   *
   * @default true
   */
  fuse?: boolean;
  /** Timeout of a KPI that sets none, in milliseconds. @default 30000 */
  defaultTimeoutMs?: number;
  /**
   * Whether a table has an index led by its time column (names as written
   * in the KPIs). A fused query reads a table without one in a single scan
   * for all its periods, and one with one period by period through the
   * index. `fetchSqlValues` asks the database's catalogue.
   *
   * @default () => false
   */
  timeIndexed?: (table: string, timeColumn: string) => boolean;
  /**
   * Structured KPIs' time columns that hold instants rather than days or
   * wall-clock times (a MySQL `TIMESTAMP`), as {@linkcode instantColumnKey}
   * of their `table` and `time_column`. Their ranges are sent as UTC
   * date-times computed here (`2024-11-01 04:00:00`) and the query runs in
   * UTC, so the server needs no time zone data to cut days.
   *
   * @default none
   */
  instantTimeColumns?: ReadonlySet<string>;
  /**
   * MySQL templates run in a zone the server has no data for: by KPI name,
   * the parts of the parsed template where `{{ period_start }}` or
   * `{{ period_end }}` meets a `TIMESTAMP` column. There the period's exact
   * instant is sent, written at the session's UTC offset (the zone's offset
   * where the period starts), so a period across a DST change is cut at
   * local midnight on both ends. `fetchSqlValues` asks the catalogue.
   *
   * @default none
   */
  templateInstants?: ReadonlyMap<string, ReadonlySet<number>>;
}

/**
 * The key of a structured KPI's table and time column in
 * {@linkcode PlanSqlQueriesOptions.instantTimeColumns}.
 *
 * @param table The KPI's `table`, as written.
 * @param timeColumn The KPI's `time_column`, as written.
 * @returns The key.
 */
export function instantColumnKey(table: string, timeColumn: string): string {
  return `${table.trim()}\u0000${timeColumn.trim()}`;
}

/** One query of a plan. */
export interface PlannedQuery {
  /** The SQL, in the dialect's placeholder style. */
  sql: string;
  /** The bound values, one per placeholder. */
  params: unknown[];
  /** A SQL template, or structured KPIs whose SQL the engine wrote. */
  kind: "template" | "structured";
  /** Names of the KPIs it computes. */
  kpis: string[];
  /** The value keys (`name@start/end`) it yields. */
  keys: string[];
  /** The table read, for structured queries; else null. */
  table: string | null;
  /** The time zone the session is set to while it runs. */
  timezone: string;
  /**
   * The zone's UTC offset (`-04:00`) at the start of the query's first range,
   * for a server without time zone data. On MySQL, template queries are
   * grouped so that their ranges start at one offset.
   */
  utcOffset: string;
  /** Cancel it after this many milliseconds. */
  timeoutMs: number;
  /**
   * Whether each row starts with the index of its range in `ranges`; an
   * untagged query returns one row with one column, read as is.
   */
  tagged: boolean;
  /** The period ranges, by tag. */
  ranges: Period[];
  /**
   * What the value columns after the tag hold: a KPI name, or null for the
   * range's row count.
   */
  columns: (string | null)[];
  /**
   * Whether the result is one row holding every range's value columns,
   * range after range (the table read once), instead of one row per range
   * starting with its tag.
   */
  wide: boolean;
  /**
   * Smaller queries computing the same keys, run when this one fails or
   * times out, so that one broken or slow KPI, or a template that cannot be
   * nested, does not sink the others: a structured query's two halves (each
   * with its own halves, down to single KPIs), a template's single periods;
   * empty when it cannot be split further.
   */
  fallback: PlannedQuery[];
}

/** A plan, and the keys that could not be planned with the reason. */
export interface SqlPlan {
  /** The queries to send. */
  queries: PlannedQuery[];
  /** Why some values cannot be computed, by value key. */
  failures: Map<string, string>;
}

// The segments planner (segments/plan_segment_queries.ts) and the series
// planner (series/plan_series_sql.ts) have the same shape of plan and of
// entry point on purpose: the steps they take alike are shared in
// _plan_common.ts; the queries they write differ.
/**
 * Plans the queries for a set of SQL KPIs, keeping going past KPIs that
 * cannot be planned (their keys land in `failures`).
 *
 * @param dialect The SQL dialect to write.
 * @param requests The KPIs and their periods.
 * @param options Variables, fusion and default timeout.
 * @returns The queries and the failures.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const period = (start: string, end: string) => ({ label: start, start, end, timezone: "UTC" });
 * const { queries, failures } = planSql("sqlite", [{
 *   definition: { name: "bad", source: "sql", table: "orders; DROP", column: "x", aggregation: "sum", timeColumn: "t" },
 *   periods: [period("2024-11-01", "2024-12-01")],
 * }]);
 * assert.equal(queries.length, 0);
 * assert.match(failures.get("bad@2024-11-01/2024-12-01") ?? "", /Invalid table/);
 * ```
 */
export function planSql(
  dialect: SqlDialect,
  requests: readonly SqlValueRequest[],
  options: PlanSqlQueriesOptions = {},
): SqlPlan {
  const vars = options.vars ?? {};
  const fuse = options.fuse ?? true;
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { known, varsFor } = templateVariables(
    vars,
    options.templateInstants?.size ? instantVars : undefined,
  );
  const queries: PlannedQuery[] = [];
  const failures = new Map<string, string>();
  const groups = new Map<string, StructuredGroup>();

  for (const { definition, periods } of requests) {
    const unique = uniquePeriods(periods);
    const fail = (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      for (const period of unique) {
        failures.set(valueKey(definition.name, period), message);
      }
    };
    const timeoutMs = definition.timeoutMs ?? defaultTimeoutMs;
    try {
      if (definition.source !== "sql") {
        throw new TypeError(
          `KPI "${definition.name}" has source "${definition.source}": expected "sql"`,
        );
      }
      if (
        typeof definition.query === "string" && definition.query.trim() !== ""
      ) {
        const parsed = parseKpiTemplate(
          definition.name,
          definition.query,
          dialect,
          known,
        );
        const instants = dialect === "mysql"
          ? options.templateInstants?.get(definition.name)
          : undefined;
        const template = instants === undefined || instants.size === 0
          ? parsed
          : withInstantParts(parsed, instants);
        for (
          const [timezone, inZone] of byTimezone(unique, dialect === "mysql")
        ) {
          queries.push(
            ...templateQueries(dialect, definition.name, template, inZone, {
              timezone,
              timeoutMs,
              fuse,
              varsFor,
            }),
          );
        }
        continue;
      }
      if (definition.table === undefined) {
        throw new TypeError(
          `SQL KPI "${definition.name}" has neither \`query\` nor \`table\`: write a query, or set table, column, aggregation and time_column`,
        );
      }
      const kpi = structuredKpi(definition, dialect);
      if (kpi.filter) checkVariables(kpi.filter, known);
      const instant = options.instantTimeColumns?.has(
        instantColumnKey(definition.table, definition.timeColumn ?? ""),
      ) ?? false;
      const timeIndexed = options.timeIndexed?.(
        definition.table.trim(),
        (definition.timeColumn ?? "").trim(),
      ) ?? false;
      for (const [zone, inZone] of byTimezone(unique, false)) {
        // An instant column is cut at UTC date-times computed here.
        const timezone = instant ? "UTC" : zone;
        if (!fuse) {
          for (const period of inZone) {
            queries.push(
              structuredPlan(dialect, [{ kpi, periods: [period], timeoutMs }], {
                timezone,
                instant,
                varsFor,
                fallback: false,
                timeIndexed,
              }),
            );
          }
          continue;
        }
        const id =
          `${kpi.table}\u0000${kpi.timeColumn}\u0000${zone}\u0000${instant}`;
        let group = groups.get(id);
        if (!group) {
          group = {
            timezone,
            instant,
            members: [],
            timeIndexed,
          };
          groups.set(id, group);
        }
        group.members.push({ kpi, periods: inZone, timeoutMs });
      }
    } catch (error) {
      fail(error);
    }
  }
  for (const group of groups.values()) {
    queries.push(
      structuredPlan(dialect, group.members, {
        timezone: group.timezone,
        instant: group.instant,
        varsFor,
        fallback: true,
        timeIndexed: group.timeIndexed,
      }),
    );
  }
  return { queries, failures };
}

/**
 * Plans the queries for a set of SQL KPIs: with fusion (the default), one
 * query per template KPI for all its periods and one query per table for
 * all structured KPIs on it.
 *
 * @param dialect The SQL dialect to write.
 * @param requests The KPIs and their periods.
 * @param options Variables, fusion and default timeout.
 * @returns The queries, in the order they would be sent.
 * @throws {Error} The first problem that keeps a KPI from being planned
 * (an unknown variable, an invalid identifier, a missing field).
 *
 * @example Three structured KPIs with MoM and YoY: one query
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const period = (start: string, end: string) => ({ label: start, start, end, timezone: "UTC" });
 * const periods = [
 *   period("2024-11-01", "2024-12-01"),
 *   period("2024-10-01", "2024-11-01"),
 *   period("2023-11-01", "2023-12-01"),
 * ];
 * const kpi = (name: string, aggregation: "sum" | "count" | "avg", column: string) => ({
 *   definition: { name, source: "sql" as const, table: "orders", column, aggregation, timeColumn: "created_at" },
 *   periods,
 * });
 * const queries = planSqlQueries("postgres", [
 *   kpi("revenue", "sum", "amount"),
 *   kpi("orders", "count", "*"),
 *   kpi("basket", "avg", "amount"),
 * ]);
 * assert.equal(queries.length, 1);
 * assert.equal(queries[0]?.keys.length, 9);
 * assert.match(queries[0]?.sql ?? "", /WHERE "created_at" >= \$1 AND "created_at" < \$2/);
 * ```
 */
export function planSqlQueries(
  dialect: SqlDialect,
  requests: readonly SqlValueRequest[],
  options: PlanSqlQueriesOptions = {},
): PlannedQuery[] {
  const { queries, failures } = planSql(dialect, requests, options);
  for (const [key, message] of failures) {
    throw new Error(
      `Cannot plan ${key.slice(0, key.indexOf("@"))}: ${message}`,
    );
  }
  return queries;
}

interface StructuredMember {
  kpi: StructuredKpi;
  periods: readonly Period[];
  timeoutMs: number;
}

interface StructuredGroup {
  timezone: string;
  instant: boolean;
  members: StructuredMember[];
  timeIndexed: boolean;
}

/**
 * Periods by time zone; with `byOffset`, also by the zone's UTC offset at
 * their start, so that one fixed offset serves each group.
 */
function byTimezone(
  periods: readonly Period[],
  byOffset: boolean,
): [timezone: string, periods: Period[]][] {
  const groups = new Map<string, [string, Period[]]>();
  for (const period of periods) {
    const id = byOffset
      ? `${period.timezone}\u0000${startOffset(period)}`
      : period.timezone;
    const group = groups.get(id);
    if (group) group[1].push(period);
    else groups.set(id, [period.timezone, [period]]);
  }
  return [...groups.values()];
}

/** The zone's UTC offset at the first instant of the period, `+HH:MM`. */
function startOffset(period: Period): string {
  const ms = periodInstants(period).startMs;
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(
    period.timezone,
  ).offset.slice(0, 6);
}

/** Marks a template's period variables that meet a TIMESTAMP column. */
const INSTANT = "@instant";

/** The template with the parts at `indexes` bound to the instant values. */
function withInstantParts(
  parsed: ParsedTemplate,
  indexes: ReadonlySet<number>,
): ParsedTemplate {
  return {
    ...parsed,
    parts: parsed.parts.map((part, i) =>
      part.kind === "var" && indexes.has(i)
        ? { ...part, name: part.name + INSTANT }
        : part
    ),
  };
}

/**
 * A period's first and first-after instants written as date-times at the
 * zone's UTC offset where the period starts (the session's offset on a
 * server without time zone data): `2024-12-01 01:00:00` for the end of
 * November in New York, whose offset is -04:00 on November 1.
 */
function instantVars(range: Period): Record<string, string> {
  const { startMs, endMs } = periodInstants(range);
  const offset = startOffset(range);
  const sign = offset.startsWith("-") ? -1 : 1;
  const [hours, minutes] = offset.slice(1).split(":").map(Number);
  const shift = sign * ((hours ?? 0) * 60 + (minutes ?? 0)) * 60_000;
  const at = (ms: number) =>
    new Date(ms + shift).toISOString().slice(0, 19).replace("T", " ");
  return {
    [`period_start${INSTANT}`]: at(startMs),
    [`period_end${INSTANT}`]: at(endMs),
  };
}

/** A period's first and first-after instants as UTC `YYYY-MM-DD HH:MM:SS`. */
const UTC_BOUNDS: RangeBounds = (range) => {
  const { startMs, endMs } = periodInstants(range);
  const utc = (ms: number) =>
    new Date(ms).toISOString().slice(0, 19).replace("T", " ");
  return [utc(startMs), utc(endMs)];
};

function templateQueries(
  dialect: SqlDialect,
  name: string,
  parsed: ParsedTemplate,
  periods: readonly Period[],
  context: {
    timezone: string;
    timeoutMs: number;
    fuse: boolean;
    varsFor: (range: Period) => Record<string, unknown>;
  },
): PlannedQuery[] {
  const single = (period: Period): PlannedQuery => {
    const b = new SqlBuilder(dialect).template(parsed, context.varsFor(period));
    return {
      sql: b.sql,
      params: b.params,
      kind: "template",
      kpis: [name],
      keys: [valueKey(name, period)],
      table: null,
      timezone: context.timezone,
      utcOffset: startOffset(period),
      timeoutMs: context.timeoutMs,
      tagged: false,
      ranges: [period],
      columns: [name],
      wide: false,
      fallback: [],
    };
  };
  if (!context.fuse || periods.length === 1) return periods.map(single);
  // Each period's instance as a derived table, tagged with its index.
  const { sql, params } = taggedTemplateUnion(
    dialect,
    parsed,
    periods,
    context.varsFor,
  );
  return [{
    sql,
    params,
    kind: "template",
    kpis: [name],
    keys: periods.map((period) => valueKey(name, period)),
    table: null,
    timezone: context.timezone,
    utcOffset: startOffset(periods[0] as Period),
    timeoutMs: context.timeoutMs,
    tagged: true,
    ranges: [...periods],
    columns: [name],
    wide: false,
    fallback: periods.map(single),
  }];
}

function structuredPlan(
  dialect: SqlDialect,
  members: readonly StructuredMember[],
  context: {
    timezone: string;
    instant: boolean;
    varsFor: (range: Period) => Record<string, unknown>;
    fallback: boolean;
    timeIndexed: boolean;
  },
): PlannedQuery {
  const ranges: Period[] = [];
  const rangeIndex = new Map<string, number>();
  const items: StructuredItem[] = members.map(({ kpi, periods }) => {
    const needed = new Set<number>();
    for (const period of periods) {
      const id = `${period.start}/${period.end}`;
      let index = rangeIndex.get(id);
      if (index === undefined) {
        index = ranges.length;
        ranges.push(period);
        rangeIndex.set(id, index);
      }
      needed.add(index);
    }
    return { kpi, ranges: needed };
  });
  const { sql, params, wide } = structuredQuery(
    dialect,
    items,
    ranges,
    context.varsFor,
    {
      timeIndexed: context.timeIndexed,
      bounds: context.instant ? UTC_BOUNDS : DAY_BOUNDS,
    },
  );
  const first = members[0] as StructuredMember;
  return {
    sql,
    params,
    kind: "structured",
    kpis: members.map((member) => member.kpi.name),
    keys: members.flatMap(({ kpi, periods }) =>
      periods.map((period) => valueKey(kpi.name, period))
    ),
    table: first.kpi.table,
    timezone: context.timezone,
    utcOffset: context.instant ? "+00:00" : startOffset(ranges[0] as Period),
    timeoutMs: Math.max(...members.map((member) => member.timeoutMs)),
    tagged: true,
    ranges,
    columns: [...members.map((member) => member.kpi.name), null],
    wide,
    fallback: context.fallback && members.length > 1
      ? [
        members.slice(0, Math.ceil(members.length / 2)),
        members.slice(Math.ceil(members.length / 2)),
      ].map((part) => structuredPlan(dialect, part, context))
      : [],
  };
}

/** Options of {@linkcode explainSqlQueries}. */
export type ExplainSqlQueriesOptions = PlanSqlQueriesOptions;

/**
 * Prints a plan for people: per query, what it computes, its SQL and its
 * parameters, numbered as the dialect numbers them. Used by `run --explain`.
 *
 * @param queries The planned queries.
 * @param failures Keys that could not be planned, with the reason.
 * @param notes A line to print under each query (by index), such as the
 * bytes a dry run reports; none by default.
 * @returns The text, ending with a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const period = { label: "2024-11", start: "2024-11-01", end: "2024-12-01", timezone: "UTC" };
 * const text = formatExplain(planSqlQueries("sqlite", [{
 *   definition: { name: "orders", source: "sql", table: "orders", column: "*", aggregation: "count", timeColumn: "day" },
 *   periods: [period],
 * }]));
 * assert.match(text, /-- Query 1 of 1: structured, table "orders"/);
 * assert.match(text, /-- Parameters: 1 = "2024-11-01", 2 = "2024-12-01"/);
 * ```
 */
export function formatExplain(
  queries: readonly PlannedQuery[],
  failures: ReadonlyMap<string, string> = new Map(),
  notes: readonly (string | null)[] = [],
): string {
  const lines: string[] = [];
  const total = queries.length;
  queries.forEach((query, index) => {
    const what = query.kind === "structured"
      ? `structured, table ${query.table}`
      : "template";
    const values = query.keys.length === 1
      ? "1 value"
      : `${query.keys.length} values`;
    lines.push(
      `-- Query ${index + 1} of ${total}: ${what}; KPIs: ${
        query.kpis.join(", ")
      }; ${values}; periods: ${
        query.ranges.map((range) => `${range.start}..${range.end}`).join(", ")
      }`,
    );
    lines.push(
      `-- Time zone ${query.timezone}, timeout ${query.timeoutMs} ms, read-only`,
    );
    lines.push(query.sql.trimEnd() + ";");
    const label = query.params.length === 0
      ? ""
      : /\$1\b/.test(query.sql)
      ? "$"
      : /@p1\b/.test(query.sql)
      ? "@p"
      : /\{p1:/.test(query.sql)
      ? "p"
      : "";
    lines.push(
      query.params.length === 0
        ? "-- Parameters: none"
        : `-- Parameters: ${
          query.params.map((value, i) =>
            `${label}${i + 1} = ${JSON.stringify(value)}`
          ).join(", ")
        }`,
    );
    const note = notes[index];
    if (note) lines.push(`-- ${note}`);
    if (query.fallback.length > 0) {
      lines.push(
        query.kind === "structured"
          ? `-- If it fails or times out: re-run in halves, down to one query per KPI`
          : `-- If it fails or times out: ${query.fallback.length} separate queries, one per period`,
      );
    }
    lines.push("");
  });
  const byKpi = new Map<string, string>();
  for (const [key, message] of failures) {
    byKpi.set(key.slice(0, key.lastIndexOf("@")), message);
  }
  for (const [name, message] of byKpi) {
    lines.push(`-- ${name}: not planned: ${message}`);
  }
  if (total === 0 && byKpi.size === 0) lines.push("-- No SQL queries");
  return lines.join("\n").trimEnd() + "\n";
}

/**
 * Plans the queries for a set of SQL KPIs and prints them (see
 * {@linkcode formatExplain}); KPIs that cannot be planned are listed with
 * the reason instead of failing the whole.
 *
 * @param dialect The SQL dialect to write.
 * @param requests The KPIs and their periods.
 * @param options Variables, fusion and default timeout.
 * @returns The printable plan.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const period = { label: "2024-11", start: "2024-11-01", end: "2024-12-01", timezone: "UTC" };
 * const text = explainSqlQueries("postgres", [{
 *   definition: { name: "revenue", source: "sql", query: "SELECT SUM(amount) FROM orders WHERE day >= '{{ period_start }}'::date" },
 *   periods: [period],
 * }]);
 * assert.match(text, /WHERE day >= \$1::date;/);
 * assert.match(text, /-- Parameters: \$1 = "2024-11-01"/);
 * ```
 */
export function explainSqlQueries(
  dialect: SqlDialect,
  requests: readonly SqlValueRequest[],
  options: ExplainSqlQueriesOptions = {},
): string {
  const { queries, failures } = planSql(dialect, requests, options);
  return formatExplain(queries, failures);
}
