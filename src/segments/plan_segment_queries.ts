/**
 * Plans the SQL of breakdowns: every dimension, segment and period range of
 * the structured KPIs of one table in one query. PostgreSQL groups each
 * range once with `GROUPING SETS`; SQLite and MariaDB/MySQL join one
 * grouped SELECT per dimension set and range with `UNION ALL`. Each range
 * stays a plain, indexable `WHERE t >= ? AND t < ?` with bound parameters.
 * A SQL template that declares dimensions runs as written, once per range,
 * fused with `UNION ALL`.
 *
 * @module
 */

import { checkDeclaredDimension } from "./_declared_dimension.ts";
import type { KPIDefinition, Period, SqlDialect } from "../types.ts";
import {
  checkVariables,
  type ParsedTemplate,
  SqlBuilder,
} from "../sql/_template.ts";
import {
  quoteName,
  quoteQualified,
  type StructuredKpi,
  structuredKpi,
} from "../sql/_structured.ts";
import { dialectTraits } from "../sql/_dialects.ts";
import {
  DEFAULT_TIMEOUT_MS,
  parseKpiTemplate,
  taggedTemplateUnion,
  templateVariables,
  uniquePeriods,
} from "../sql/_plan_common.ts";

/** One KPI whose segments are needed, with its periods. */
export interface SegmentRequest {
  /** The KPI (`source: sql`, structured or a template with dimensions). */
  definition: KPIDefinition;
  /** The period and each comparison base. */
  periods: readonly Period[];
}

/** Options of {@linkcode planSegmentQueries}. */
export interface PlanSegmentQueriesOptions {
  /** Template variables besides `period_start` and `period_end`. @default {} */
  vars?: Readonly<Record<string, string | number | boolean>>;
  /** Timeout of a KPI that sets none, in milliseconds. @default 30000 */
  defaultTimeoutMs?: number;
  /**
   * Use `GROUPING SETS` where the dialect has them (PostgreSQL); when
   * false, every dialect gets `UNION ALL`. @default true
   */
  groupingSets?: boolean;
}

/** One planned breakdown query. */
export interface PlannedSegmentQuery {
  /** The SQL, in the dialect's placeholder style. */
  sql: string;
  /** The bound values, one per placeholder. */
  params: unknown[];
  /** `structured` (written by the engine) or `template` (as written). */
  kind: "structured" | "template";
  /** The KPIs it computes, in column order. */
  kpis: string[];
  /** The table, for structured queries; else null. */
  table: string | null;
  /** The time zone the session runs in. */
  timezone: string;
  /** Cancel it after this many milliseconds. */
  timeoutMs: number;
  /** The period ranges, by the tag each row starts with. */
  ranges: Period[];
  /**
   * The dimension sets, by the index in each row's second column
   * (structured); a template has one set, its own dimensions.
   */
  sets: string[][];
  /** Every dimension the rows carry, in column order after the tags. */
  dimensions: string[];
}

/** A plan: the queries, and the KPIs that cannot be planned with why. */
export interface SegmentPlan {
  /** The queries. */
  queries: PlannedSegmentQuery[];
  /** Why some KPIs cannot be broken down, by name. */
  failures: Map<string, string>;
}

// Shaped like planSql's plan and entry point (sql/plan_sql_queries.ts) on
// purpose: the steps both take are shared in sql/_plan_common.ts; the
// queries they write (segments by dimension set) differ.
/**
 * Plans one query per table (and time zone) for the segments of
 * structured SQL KPIs by each dimension set, and one per template KPI.
 * Structured rows read `p, g, <dimensions...>, n1, d1, n2, d2, ...` where
 * `p` is the range, `g` the dimension set, and `nᵢ`, `dᵢ` the additive part
 * and the weight of each KPI (see `SegmentMeasure`); template rows read
 * `p, <dimensions...>, value`.
 *
 * @param dialect The SQL dialect to write.
 * @param requests The KPIs and their periods.
 * @param sets The dimension sets to group by, e.g. `[["region"], ["channel"]]`.
 * @param options Variables, timeouts and whether to use GROUPING SETS.
 * @returns The queries and the KPIs that could not be planned.
 *
 * @example Two dimensions and three periods, one PostgreSQL query
 * ```ts
 * import assert from "node:assert/strict";
 * const period = (start: string, end: string) => ({ label: start, start, end, timezone: "UTC" });
 * const { queries } = planSegmentQueries("postgres", [{
 *   definition: { name: "revenue", source: "sql", table: "orders", column: "amount",
 *     aggregation: "sum", timeColumn: "day", dimensions: ["region", "channel"] },
 *   periods: [period("2024-11-01", "2024-12-01"), period("2024-10-01", "2024-11-01"), period("2023-11-01", "2023-12-01")],
 * }], [["region"], ["channel"]]);
 * assert.equal(queries.length, 1);
 * assert.match(queries[0]?.sql ?? "", /GROUP BY GROUPING SETS \(\("region"\), \("channel"\)\)/);
 * assert.match(queries[0]?.sql ?? "", /WHERE "day" >= \$1 AND "day" < \$2/);
 * ```
 */
export function planSegmentQueries(
  dialect: SqlDialect,
  requests: readonly SegmentRequest[],
  sets: readonly (readonly string[])[],
  options: PlanSegmentQueriesOptions = {},
): SegmentPlan {
  const vars = options.vars ?? {};
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const groupingSets = (options.groupingSets ?? true) && dialect === "postgres";
  const { known, varsFor } = templateVariables(vars);
  const queries: PlannedSegmentQuery[] = [];
  const failures = new Map<string, string>();
  const groups = new Map<string, Group>();
  const uniqueSets = dedupeSets(sets);

  for (const { definition, periods } of requests) {
    try {
      const ranges = uniquePeriods(periods);
      const timezone = ranges[0]?.timezone ?? "UTC";
      const timeoutMs = definition.timeoutMs ?? defaultTimeoutMs;
      const own = definition.dimensions ?? [];
      for (const set of uniqueSets) {
        for (const dimension of set) {
          checkDeclaredDimension(definition, dimension);
        }
      }
      if (typeof definition.query === "string" && definition.query.trim()) {
        const parsed = parseKpiTemplate(
          definition.name,
          definition.query,
          dialect,
          known,
        );
        queries.push(
          templateQuery(dialect, definition.name, parsed, ranges, own, {
            timezone,
            timeoutMs,
            varsFor,
          }),
        );
        continue;
      }
      const kpi = structuredKpi(definition, dialect);
      if (kpi.aggregation === "last") {
        throw new RangeError(
          `KPI "${definition.name}" folds rows with "last", which cannot be broken down: use sum, count, avg or rate`,
        );
      }
      if (kpi.filter) checkVariables(kpi.filter, known);
      for (const set of uniqueSets) {
        for (const dimension of set) {
          quoteQualified(dimension, dialect, "dimension", false);
        }
      }
      const id = `${kpi.table}\u0000${kpi.timeColumn}\u0000${timezone}`;
      let group = groups.get(id);
      if (!group) {
        group = { timezone, members: [], ranges: [], timeoutMs: 0 };
        groups.set(id, group);
      }
      group.members.push(kpi);
      group.timeoutMs = Math.max(group.timeoutMs, timeoutMs);
      for (const range of ranges) {
        if (
          !group.ranges.some((r) =>
            r.start === range.start && r.end === range.end
          )
        ) group.ranges.push(range);
      }
    } catch (error) {
      failures.set(
        definition.name,
        error instanceof Error ? error.message : String(error),
      );
    }
  }
  for (const group of groups.values()) {
    queries.push(
      structuredSegmentQuery(dialect, group, uniqueSets, {
        varsFor,
        groupingSets,
      }),
    );
  }
  return { queries, failures };
}

interface Group {
  timezone: string;
  members: StructuredKpi[];
  ranges: Period[];
  timeoutMs: number;
}

function dedupeSets(sets: readonly (readonly string[])[]): string[][] {
  const out: string[][] = [];
  const seen = new Set<string>();
  for (const set of sets) {
    const key = set.join("\u0000");
    if (set.length === 0 || seen.has(key)) continue;
    seen.add(key);
    out.push([...set]);
  }
  return out;
}

const TEXT_TYPES: Partial<Record<SqlDialect, string>> = {
  mysql: "CHAR",
  clickhouse: "Nullable(String)",
  bigquery: "STRING",
};

function textCast(expression: string, dialect: SqlDialect): string {
  return `CAST(${expression} AS ${TEXT_TYPES[dialect] ?? "TEXT"})`;
}

function quote(name: string, dialect: SqlDialect): string {
  return quoteName(name, dialect);
}

/** Writes each KPI's two columns: its additive part and its weight. */
function measures(
  b: SqlBuilder,
  members: readonly StructuredKpi[],
  vars: Readonly<Record<string, unknown>>,
): void {
  const dialect = b.dialect;
  members.forEach((kpi, index) => {
    const filtered = (value: string) => {
      if (kpi.filter === null) b.text(value);
      else {
        b.text("CASE WHEN (").template(kpi.filter, vars).text(
          `) THEN ${value} END`,
        );
      }
    };
    const column = kpi.column;
    b.text(",\n  ");
    switch (kpi.aggregation) {
      case "sum":
        b.text("COALESCE(SUM(");
        filtered(column);
        b.text(`), 0) AS n${index + 1},\n  COUNT(`);
        filtered(column === "*" ? "1" : column);
        b.text(`) AS d${index + 1}`);
        return;
      case "count":
        b.text("COUNT(");
        filtered(column === "*" ? "1" : column);
        b.text(`) AS n${index + 1},\n  COUNT(`);
        filtered("1");
        b.text(`) AS d${index + 1}`);
        return;
      case "avg":
        b.text("SUM(");
        filtered(dialectTraits(dialect).avgArgument(column));
        b.text(`) AS n${index + 1},\n  COUNT(`);
        filtered(column);
        b.text(`) AS d${index + 1}`);
        return;
      default: {
        // rate: the share of truthy values among the non-missing ones.
        const truthy = dialectTraits(dialect).truthy(column);
        const cell =
          `CASE WHEN ${column} IS NULL THEN NULL WHEN ${truthy} THEN 1e0 ELSE 0e0 END`;
        b.text("SUM(");
        filtered(cell);
        b.text(`) AS n${index + 1},\n  COUNT(`);
        filtered(cell);
        b.text(`) AS d${index + 1}`);
      }
    }
  });
}

function structuredSegmentQuery(
  dialect: SqlDialect,
  group: Group,
  sets: readonly string[][],
  context: {
    varsFor: (range: Period) => Record<string, unknown>;
    groupingSets: boolean;
  },
): PlannedSegmentQuery {
  const first = group.members[0] as StructuredKpi;
  const dimensions = [...new Set(sets.flat())];
  const b = new SqlBuilder(dialect);
  const where = (range: Period) => {
    b.text(`\nFROM ${first.table}\nWHERE ${first.timeColumn} >= `)
      .param(range.start).text(` AND ${first.timeColumn} < `).param(range.end);
  };
  let selects = 0;
  group.ranges.forEach((range, tag) => {
    const vars = context.varsFor(range);
    if (context.groupingSets && sets.length > 1) {
      if (selects++ > 0) b.text("\nUNION ALL\n");
      const grouping = (dimension: string) =>
        `GROUPING(${quote(dimension, dialect)})`;
      const g = sets.map((set, i) =>
        `WHEN ${
          dimensions.map((d) => `${grouping(d)} = ${set.includes(d) ? 0 : 1}`)
            .join(" AND ")
        } THEN ${i}`
      ).join(" ");
      b.text(`SELECT ${tag} AS p, CASE ${g} END AS g`);
      for (const dimension of dimensions) {
        b.text(
          `, ${textCast(quote(dimension, dialect), dialect)} AS ${
            quote(`s_${dimension}`, dialect)
          }`,
        );
      }
      measures(b, group.members, vars);
      where(range);
      b.text(
        `\nGROUP BY GROUPING SETS (${
          sets.map((set) => `(${set.map((d) => quote(d, dialect)).join(", ")})`)
            .join(", ")
        })`,
      );
      return;
    }
    sets.forEach((set, g) => {
      if (selects++ > 0) b.text("\nUNION ALL\n");
      b.text(`SELECT ${tag} AS p, ${g} AS g`);
      for (const dimension of dimensions) {
        const value = set.includes(dimension)
          ? textCast(quote(dimension, dialect), dialect)
          : textCast("NULL", dialect);
        b.text(`, ${value} AS ${quote(`s_${dimension}`, dialect)}`);
      }
      measures(b, group.members, vars);
      where(range);
      b.text(
        `\nGROUP BY ${set.map((d) => quote(d, dialect)).join(", ")}`,
      );
    });
  });
  return {
    sql: b.sql,
    params: b.params,
    kind: "structured",
    kpis: group.members.map((member) => member.name),
    table: first.table,
    timezone: group.timezone,
    timeoutMs: group.timeoutMs,
    ranges: group.ranges,
    sets: sets.map((set) => [...set]),
    dimensions,
  };
}

function templateQuery(
  dialect: SqlDialect,
  name: string,
  parsed: ParsedTemplate,
  ranges: readonly Period[],
  dimensions: readonly string[],
  context: {
    timezone: string;
    timeoutMs: number;
    varsFor: (range: Period) => Record<string, unknown>;
  },
): PlannedSegmentQuery {
  const { sql, params } = taggedTemplateUnion(
    dialect,
    parsed,
    ranges,
    context.varsFor,
  );
  return {
    sql,
    params,
    kind: "template",
    kpis: [name],
    table: null,
    timezone: context.timezone,
    timeoutMs: context.timeoutMs,
    ranges: [...ranges],
    sets: [[...dimensions]],
    dimensions: [...dimensions],
  };
}
