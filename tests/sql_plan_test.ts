import assert from "node:assert/strict";
import type { KPIDefinition, Period, SqlDialect } from "../src/types.ts";
import {
  explainSqlQueries,
  formatExplain,
  planSql,
  planSqlQueries,
  type SqlValueRequest,
} from "../src/sql/plan_sql_queries.ts";
import { valueKey } from "../src/_value_key.ts";

const period = (start: string, end: string): Period => ({
  label: start,
  start,
  end,
  timezone: "UTC",
});
const NOV = period("2024-11-01", "2024-12-01");
const OCT = period("2024-10-01", "2024-11-01");
const NOV23 = period("2023-11-01", "2023-12-01");
const PERIODS = [NOV, OCT, NOV23];

function structured(
  name: string,
  fields: Partial<KPIDefinition> = {},
): KPIDefinition {
  return {
    name,
    source: "sql",
    table: "orders",
    column: "amount",
    aggregation: "sum",
    timeColumn: "created_at",
    ...fields,
  };
}

Deno.test("planSqlQueries() fuses structured KPIs per table and time column, one scan for every range", () => {
  const requests: SqlValueRequest[] = [
    { definition: structured("a"), periods: PERIODS },
    {
      definition: structured("b", { aggregation: "count", column: "*" }),
      periods: [NOV],
    },
    {
      definition: structured("c", { timeColumn: "paid_at" }),
      periods: PERIODS,
    },
    {
      definition: structured("d", { table: "analytics.refunds" }),
      periods: PERIODS,
    },
  ];
  const queries = planSqlQueries("postgres", requests);
  assert.equal(queries.length, 3);
  const [orders, paid, refunds] = queries;
  assert.deepEqual(orders?.kpis, ["a", "b"]);
  assert.equal(orders?.keys.length, 4);
  assert.equal(orders?.wide, true);
  assert.doesNotMatch(orders?.sql ?? "", /UNION ALL/);
  assert.equal(orders?.sql.match(/FROM "orders"/g)?.length, 1);
  // Each aggregate keeps to its range; the WHERE reads the ranges only,
  // October and November as one span.
  assert.match(
    orders?.sql ?? "",
    /COALESCE\(SUM\("amount"\) FILTER \(WHERE "created_at" >= \$\d+ AND "created_at" < \$\d+\), 0\) AS v1_0/,
  );
  // b is not needed in October or in 2023: NULL there.
  assert.match(orders?.sql ?? "", /NULL AS v2_1/);
  assert.match(orders?.sql ?? "", /COUNT\(\*\) FILTER \(WHERE .*?\) AS n_2/);
  assert.match(
    orders?.sql ?? "",
    /\nWHERE \("created_at" >= \$\d+ AND "created_at" < \$\d+\) OR \("created_at" >= \$\d+ AND "created_at" < \$\d+\)$/,
  );
  const spans = orders?.params.slice(-4);
  assert.deepEqual(spans, [
    "2023-11-01",
    "2023-12-01",
    "2024-10-01",
    "2024-12-01",
  ]);
  assert.deepEqual(orders?.fallback.map((q) => q.kpis), [["a"], ["b"]]);
  assert.deepEqual(paid?.kpis, ["c"]);
  assert.deepEqual(paid?.fallback, []);
  assert.match(refunds?.sql ?? "", /FROM "analytics"\."refunds"/);
  assert.equal(
    planSqlQueries("mysql", requests)[2]?.sql.includes(
      "FROM `analytics`.`refunds`",
    ),
    true,
  );
});

Deno.test("planSqlQueries() on DuckDB reads each range in its own SELECT of one statement, without an index", () => {
  const requests: SqlValueRequest[] = [
    { definition: structured("a"), periods: PERIODS },
    { definition: structured("b", { aggregation: "count" }), periods: [NOV] },
    { definition: structured("l", { aggregation: "last" }), periods: PERIODS },
  ];
  const queries = planSqlQueries("duckdb", requests);
  assert.equal(queries.length, 1);
  const [query] = queries;
  assert.equal(query?.wide, false);
  const selects = (query?.sql ?? "").split("\nUNION ALL\n");
  assert.equal(selects.length, 3);
  selects.forEach((select, tag) => {
    // Its own plain range condition, which DuckDB prunes row groups by.
    assert.match(
      select,
      new RegExp(
        `^SELECT ${tag} AS p,[^]*\\nFROM "orders"\\nWHERE "created_at" >= \\? AND "created_at" < \\?$`,
      ),
    );
    assert.doesNotMatch(select, /FILTER|\bOR\b/);
  });
  // b is needed in November only.
  assert.match(selects[0] ?? "", /COUNT\("amount"\) AS v2/);
  assert.match(selects[1] ?? "", /NULL AS v2/);
  // Each range's bounds in order, last looked up in its range.
  const bounds = (query?.params ?? []).filter((_, i, all) =>
    i % 2 === 0 && all[i + 1] !== undefined
  );
  assert.deepEqual([...new Set(bounds)], [
    "2024-11-01",
    "2024-10-01",
    "2023-11-01",
  ]);
  assert.equal(
    query?.sql.match(/ORDER BY "created_at" DESC LIMIT 1/g)?.length,
    3,
  );
  // Other dialects keep the one scan.
  assert.equal(planSqlQueries("postgres", requests)[0]?.wide, true);
});

Deno.test("planSqlQueries() reads a table with a time index range by range, last down the index", () => {
  const requests: SqlValueRequest[] = [
    { definition: structured("a"), periods: PERIODS },
    { definition: structured("l", { aggregation: "last" }), periods: PERIODS },
  ];
  const [query] = planSqlQueries("postgres", requests, {
    timeIndexed: (table, column) =>
      table === "orders" && column === "created_at",
  });
  assert.equal(query?.wide, false);
  assert.equal(query?.sql.match(/UNION ALL/g)?.length, 2);
  assert.match(
    query?.sql ?? "",
    /\(SELECT "amount" FROM "orders" WHERE "created_at" >= \$\d+ AND "created_at" < \$\d+ AND "amount" IS NOT NULL ORDER BY "created_at" DESC LIMIT 1\)/,
  );
  assert.doesNotMatch(query?.sql ?? "", /FILTER/);
});

Deno.test("planSqlQueries() with fuse: false plans one query per KPI per period", () => {
  const requests: SqlValueRequest[] = [
    { definition: structured("a"), periods: PERIODS },
    { definition: structured("b", { aggregation: "avg" }), periods: PERIODS },
    {
      definition: {
        name: "t",
        source: "sql",
        query: "SELECT 1 WHERE {{ period_start }} < {{ period_end }}",
      },
      periods: PERIODS,
    },
  ];
  assert.equal(planSqlQueries("sqlite", requests, { fuse: false }).length, 9);
  assert.equal(planSqlQueries("sqlite", requests).length, 2);
});

Deno.test("planSqlQueries() writes each aggregation the way the in-memory source folds it", () => {
  const sql = (
    fields: Partial<KPIDefinition>,
    dialect: SqlDialect = "postgres",
  ) =>
    planSqlQueries(dialect, [{
      definition: structured("k", fields),
      periods: [NOV],
    }])[0]?.sql ?? "";
  assert.match(sql({}), /COALESCE\(SUM\("amount"\), 0\) AS v1/);
  assert.match(
    sql({ filter: "status = 'paid'" }),
    /COALESCE\(SUM\("amount"\) FILTER \(WHERE \(status = 'paid'\)\), 0\)/,
  );
  assert.match(
    sql({ filter: "status = 'paid'" }, "mysql"),
    /COALESCE\(SUM\(CASE WHEN \(status = 'paid'\) THEN `amount` END\), 0\)/,
  );
  assert.match(sql({ aggregation: "count", column: "*" }), /COUNT\(\*\) AS v1/);
  assert.match(
    sql({ aggregation: "count", column: "*", filter: "x > 1" }),
    /COUNT\(\*\) FILTER \(WHERE \(x > 1\)\)/,
  );
  assert.match(sql({ aggregation: "count" }), /COUNT\("amount"\)/);
  assert.match(sql({ aggregation: "avg" }), /AVG\("amount"\)/);
  assert.match(sql({ aggregation: "avg" }, "mysql"), /AVG\(`amount` \+ 0e0\)/);
  assert.match(
    sql({ aggregation: "rate", column: "refunded" }),
    /AVG\(CASE WHEN "refunded" IS NULL THEN NULL WHEN LOWER\(TRIM\(CAST\("refunded" AS TEXT\)\)\) IN \('', 'false', 'f', 'no', 'n', 'off'\) OR .* THEN 0e0 ELSE 1e0 END\)/,
  );
  // last: the greatest (time, value) pair, in the same scan.
  assert.match(
    sql({ aggregation: "last" }),
    /\(MAX\(ARRAY\[EXTRACT\(EPOCH FROM "created_at"\)::float8, "amount"::float8\]\) FILTER \(WHERE "amount" IS NOT NULL\)\)\[2\]/,
  );
  assert.match(
    sql({ aggregation: "last" }, "mysql"),
    /SUBSTRING\(MAX\(CASE WHEN `amount` IS NOT NULL THEN CONCAT\(DATE_FORMAT\(`created_at`, '%Y%m%d%H%i%s%f'\), `amount`\) END\), 21\)/,
  );
  assert.doesNotMatch(
    sql({ aggregation: "last" }, "sqlite"),
    /SELECT "amount"/,
  );
});

Deno.test("planSql() refuses identifiers that are not plain names and filters that could escape", () => {
  const cases: [Partial<Record<keyof KPIDefinition, unknown>>, RegExp][] = [
    [
      { table: "orders; DROP TABLE x" },
      /Invalid table "orders; DROP TABLE x": expected a plain name/,
    ],
    [{ table: "a.b.c.d" }, /Invalid table/],
    [{ column: "amount + 1" }, /Invalid column "amount \+ 1"/],
    [{ timeColumn: "t.created_at" }, /Invalid time_column "t.created_at"/],
    [{ column: '"amount"' }, /Invalid column/],
    [
      { aggregation: "sum", column: "*" },
      /Column "\*" of KPI "k" only works with aggregation count/,
    ],
    [{ filter: "1 = 1) OR (1 = 1" }, /Invalid filter .*balanced parentheses/],
    [{ filter: "1 = 1; DELETE FROM orders" }, /Invalid filter/],
    [
      { filter: "region = {{ regoin }}" },
      /Unknown template variable "regoin": expected one of period_start, period_end/,
    ],
    [{ timeColumn: undefined }, /has no `time_column`/],
    [{ aggregation: "median" }, /Invalid aggregation "median"/],
  ];
  for (const [fields, pattern] of cases) {
    const definition = structured("k", fields as Partial<KPIDefinition>);
    if ("timeColumn" in fields && fields.timeColumn === undefined) {
      delete definition.timeColumn;
    }
    const { queries, failures } = planSql("postgres", [{
      definition,
      periods: PERIODS,
    }]);
    assert.equal(queries.length, 0, JSON.stringify(fields));
    assert.equal(failures.size, 3);
    assert.match(failures.get(valueKey("k", NOV)) ?? "", pattern);
  }
  assert.throws(
    () =>
      planSqlQueries("sqlite", [{
        definition: structured("k", { table: "x y" }),
        periods: [NOV],
      }]),
    /Cannot plan k: Invalid table/,
  );
  // A comment in a filter cannot swallow the SQL after it.
  const ok = planSqlQueries("sqlite", [{
    definition: structured("k", { filter: "x > 1 -- big ones" }),
    periods: [NOV],
  }]);
  assert.match(
    ok[0]?.sql ?? "",
    /SUM\("amount"\) FILTER \(WHERE \(x > 1 \s*\)\), 0\) AS v1,\n {2}COUNT\(\*\) AS n\nFROM/,
  );
});

Deno.test("planSql() refuses a template of several statements and a KPI with neither query nor table", () => {
  const { failures } = planSql("sqlite", [
    {
      definition: { name: "two", source: "sql", query: "SELECT 1; SELECT 2" },
      periods: [NOV],
    },
    { definition: { name: "none", source: "sql" }, periods: [NOV] },
    {
      definition: { name: "frame", source: "dataframe", query: "t.c" },
      periods: [NOV],
    },
  ]);
  assert.match(
    failures.get(valueKey("two", NOV)) ?? "",
    /more than one statement/,
  );
  assert.match(
    failures.get(valueKey("none", NOV)) ?? "",
    /neither `query` nor `table`/,
  );
  assert.match(failures.get(valueKey("frame", NOV)) ?? "", /expected "sql"/);
});

Deno.test("explainSqlQueries() prints each query with what it computes and its numbered parameters", () => {
  const text = explainSqlQueries("postgres", [
    { definition: structured("revenue"), periods: PERIODS },
    {
      definition: structured("orders", {
        column: "*",
        aggregation: "count",
        timeoutMs: 60000,
      }),
      periods: PERIODS,
    },
    {
      definition: {
        name: "eu",
        source: "sql",
        query:
          "SELECT COUNT(*) FROM o WHERE r = {{ region }} AND d >= '{{ period_start }}'::date",
      },
      periods: [NOV, OCT],
    },
    { definition: structured("bad", { table: "no good" }), periods: [NOV] },
  ], { vars: { region: "EU" } });
  assert.match(
    text,
    /^-- Query 1 of 2: template; KPIs: eu; 2 values; periods: 2024-11-01\.\.2024-12-01, 2024-10-01\.\.2024-11-01$/m,
  );
  assert.match(text, /^-- Time zone UTC, timeout 30000 ms, read-only$/m);
  assert.match(
    text,
    /^-- Parameters: \$1 = "EU", \$2 = "2024-11-01", \$3 = "EU", \$4 = "2024-10-01"$/m,
  );
  assert.match(
    text,
    /^-- If it fails or times out: 2 separate queries, one per period$/m,
  );
  assert.match(
    text,
    /^-- Query 2 of 2: structured, table "orders"; KPIs: revenue, orders; 6 values;/m,
  );
  assert.match(
    text,
    /^-- Time zone UTC, timeout 60000 ms, read-only$/m,
    "a fused query gets the longest timeout of its KPIs",
  );
  assert.match(text, /^-- bad: not planned: Invalid table "no good"/m);
  assert.match(text, /;\n-- Parameters/);
  assert.equal(formatExplain([]), "-- No SQL queries\n");
  assert.match(
    explainSqlQueries("sqlite", [{
      definition: structured("n", { column: "*", aggregation: "count" }),
      periods: [NOV],
    }]),
    /-- Parameters: 1 = "2024-11-01", 2 = "2024-12-01"/,
  );
});
