/**
 * The shared suite every SQL backend passes: the same data set in SQLite,
 * PostgreSQL and MariaDB must give the same numbers, computed here
 * independently in plain TypeScript.
 *
 * @module
 */

import assert from "node:assert/strict";
import type {
  KPIDefinition,
  Period,
  SqlClient,
  SqlDialect,
} from "../src/types.ts";
import {
  fetchSqlValues,
  type SqlValueRequest,
} from "../src/sql/fetch_sql_values.ts";
import { planSqlQueries } from "../src/sql/plan_sql_queries.ts";
import { valueKey } from "../src/_value_key.ts";
import { fetchDataFrameValues } from "../src/dataframe/fetch_dataframe_values.ts";
import { KPIEngine } from "../src/engine/kpi_engine.ts";
import { decimalSum } from "../src/segments/_exact.ts";
import { TIME_INDEX_MARK } from "../src/sql/_time_index.ts";

/** A fresh namespace on one backend: an admin handle and the client under test. */
export interface SqlFixture {
  /** Qualifier of the fixture's tables, e.g. `kpi_t_ab12` or `main`. */
  schema: string;
  /** Runs DDL or DML with the admin handle (writable). */
  exec(sql: string, params?: readonly unknown[]): Promise<void>;
  /** Reads one number with the admin handle. */
  scalar(sql: string): Promise<number>;
  /** The read-only client under test. */
  client: SqlClient;
  /** Drops the namespace and closes every handle. */
  close(): Promise<void>;
}

/** A backend the suite runs on. */
export interface SqlBackend {
  /** Shown in test names. */
  name: string;
  /** Its dialect. */
  dialect: SqlDialect;
  /** Column types for the data set. */
  types: {
    real: string;
    date: string;
    text: string;
    bool: string;
    /** A binary floating-point column (double precision). */
    float: string;
    /** An exact decimal column holding 18 digits, 2 after the point. */
    decimal: string;
  };
  /**
   * Whether `CREATE INDEX` on the time column makes a B-tree index the
   * planner reads through (not in DuckDB, ClickHouse or the warehouses,
   * which read columns by blocks and prune them by their min/max).
   *
   * @default true
   */
  timeIndexes?: boolean;
  /**
   * Whether a fused query reads each period range in a SELECT of its own,
   * joined with `UNION ALL`, even without an index (DuckDB, which prunes
   * row groups by min/max under a plain range condition but not under an
   * OR of ranges) rather than all ranges in one scan.
   *
   * @default false
   */
  rangeByRange?: boolean;
  /** Opens a fresh fixture. */
  open(): Promise<SqlFixture>;
}

/** One order of the data set. */
interface Order {
  id: number;
  amount: number | null;
  day: string;
  region: string;
  channel: string | null;
  refunded: boolean | null;
}

const FIRST_DAY = Temporal.PlainDate.from("2023-09-01");

/** 240 orders on distinct days from 2023-09-01 to 2024-12-31. */
export const ORDERS: readonly Order[] = Array.from({ length: 240 }, (_, i) => ({
  id: i + 1,
  amount: i % 17 === 0 ? null : ((i * 13) % 100) + 0.25 * (i % 4),
  day: FIRST_DAY.add({ days: (i * 37) % 488 }).toString(),
  region: ["EU", "US", "APAC"][i % 3] as string,
  channel: i % 7 === 0 ? null : ["web", "ads", "store", "web"][i % 4] as string,
  refunded: i % 11 === 0 ? null : i % 5 === 0,
}));

/** A UTC period. */
export function period(start: string, end: string): Period {
  return { label: `${start}..${end}`, start, end, timezone: "UTC" };
}

export const NOV_2024: Period = period("2024-11-01", "2024-12-01");
export const OCT_2024: Period = period("2024-10-01", "2024-11-01");
export const NOV_2023: Period = period("2023-11-01", "2023-12-01");
export const EMPTY: Period = period("2022-01-01", "2022-02-01");
export const PERIODS: readonly Period[] = [NOV_2024, OCT_2024, NOV_2023];

/** Orders in a period, optionally filtered. */
function inPeriod(
  p: Period,
  where: (o: Order) => boolean = () => true,
): Order[] {
  return ORDERS.filter((o) => o.day >= p.start && o.day < p.end && where(o));
}

/** The values the data set must give, computed in TypeScript. */
export const expected = {
  sum: (p: Period, where?: (o: Order) => boolean): number =>
    inPeriod(p, where).reduce((s, o) => s + (o.amount ?? 0), 0),
  count: (p: Period, where?: (o: Order) => boolean): number =>
    inPeriod(p, where).length,
  countAmount: (p: Period): number =>
    inPeriod(p).filter((o) => o.amount !== null).length,
  avg: (p: Period): number | null => {
    const values = inPeriod(p).flatMap((o) =>
      o.amount === null ? [] : [o.amount]
    );
    return values.length === 0
      ? null
      : values.reduce((s, v) => s + v, 0) / values.length;
  },
  rate: (p: Period): number | null => {
    const values = inPeriod(p).flatMap((o) =>
      o.refunded === null ? [] : [o.refunded]
    );
    return values.length === 0
      ? null
      : values.filter(Boolean).length / values.length;
  },
  last: (p: Period): number | null => {
    const rows = inPeriod(p).filter((o) => o.amount !== null).sort((a, b) =>
      a.day < b.day ? -1 : 1
    );
    return rows.length === 0 ? null : rows[rows.length - 1]!.amount;
  },
};

/**
 * Wraps a client to count the KPI queries sent (not the catalogue lookup
 * for a time index) and the most in flight at once.
 */
export function counting(client: SqlClient): {
  client: SqlClient;
  sent: string[];
  peak: () => number;
} {
  const sent: string[] = [];
  let active = 0;
  let peak = 0;
  return {
    sent,
    peak: () => peak,
    client: {
      dialect: client.dialect,
      async query(sql, params, options) {
        if (sql.startsWith(TIME_INDEX_MARK)) {
          return await client.query(sql, params, options);
        }
        sent.push(sql);
        active++;
        peak = Math.max(peak, active);
        try {
          return await client.query(sql, params, options);
        } finally {
          active--;
        }
      },
      close: () => client.close(),
    },
  };
}

/** Creates the orders table of a fixture and fills it. */
async function createOrders(
  backend: SqlBackend,
  fx: SqlFixture,
): Promise<void> {
  const { real, date, text, bool } = backend.types;
  await fx.exec(
    `CREATE TABLE ${fx.schema}.orders (id INTEGER, amount ${real}, order_date ${date}, region ${text}, channel ${text}, refunded ${bool})`,
  );
  const placeholders: string[] = [];
  const params: unknown[] = [];
  for (const o of ORDERS) {
    const row: string[] = [];
    for (
      const value of [
        o.id,
        o.amount,
        o.day,
        o.region,
        o.channel,
        o.refunded,
      ]
    ) {
      params.push(value);
      row.push(backend.dialect === "postgres" ? `$${params.length}` : "?");
    }
    placeholders.push(`(${row.join(", ")})`);
  }
  await fx.exec(
    `INSERT INTO ${fx.schema}.orders (id, amount, order_date, region, channel, refunded) VALUES ${
      placeholders.join(", ")
    }`,
    params,
  );
}

/** Runs `fn` on a fresh fixture holding the orders table, then drops it. */
async function withOrders(
  backend: SqlBackend,
  fn: (fx: SqlFixture) => Promise<void>,
): Promise<void> {
  const fx = await backend.open();
  try {
    await createOrders(backend, fx);
    await fn(fx);
  } finally {
    await fx.close();
  }
}

function sqlKpi(fields: Omit<KPIDefinition, "source">): KPIDefinition {
  return { source: "sql", ...fields };
}

function close(
  actual: number | null | undefined,
  wanted: number | null,
  what: string,
) {
  if (wanted === null || actual === null || actual === undefined) {
    assert.equal(actual, wanted, what);
    return;
  }
  assert.ok(
    Math.abs(actual - wanted) <= 1e-9 * Math.max(1, Math.abs(wanted)),
    `${what}: ${actual} is not ${wanted}`,
  );
}

/** Registers the shared tests for one backend. */
export function defineSqlBackendSuite(backend: SqlBackend): void {
  const test = (name: string, fn: (fx: SqlFixture) => Promise<void>) =>
    Deno.test(`[${backend.name}] ${name}`, () => withOrders(backend, fn));

  test("a template KPI gets all its periods in one query, quoted or bare variables alike", async (fx) => {
    const counter = counting(fx.client);
    const definition = sqlKpi({
      name: "revenue",
      query:
        `SELECT SUM(amount) FROM ${fx.schema}.orders WHERE order_date >= '{{ period_start }}' AND order_date < {{ period_end }}`,
    });
    const periods = [...PERIODS, EMPTY];
    const values = await fetchSqlValues(counter.client, [{
      definition,
      periods,
    }]);
    assert.equal(counter.sent.length, 1);
    for (const p of PERIODS) {
      assert.equal(values.get(valueKey("revenue", p))?.error, null);
      assert.equal(values.get(valueKey("revenue", p))?.value, expected.sum(p));
    }
    const empty = values.get(valueKey("revenue", EMPTY));
    assert.equal(empty?.value, null, "a NULL the template returns stays null");
    assert.equal(empty?.error, null);
  });

  test("structured KPIs on one table are one query, and match the in-memory rules", async (fx) => {
    const counter = counting(fx.client);
    const base = { table: `${fx.schema}.orders`, timeColumn: "order_date" };
    const all = [...PERIODS, EMPTY];
    const requests: SqlValueRequest[] = [
      {
        definition: sqlKpi({
          ...base,
          name: "revenue",
          column: "amount",
          aggregation: "sum",
        }),
        periods: all,
      },
      {
        definition: sqlKpi({
          ...base,
          name: "orders",
          column: "*",
          aggregation: "count",
        }),
        periods: all,
      },
      {
        definition: sqlKpi({
          ...base,
          name: "eu_orders",
          column: "*",
          aggregation: "count",
          filter: "region = {{ region }}",
        }),
        periods: PERIODS,
      },
      {
        definition: sqlKpi({
          ...base,
          name: "priced",
          column: "amount",
          aggregation: "count",
        }),
        periods: PERIODS,
      },
      {
        definition: sqlKpi({
          ...base,
          name: "basket",
          column: "amount",
          aggregation: "avg",
        }),
        periods: all,
      },
      {
        definition: sqlKpi({
          ...base,
          name: "refund_rate",
          column: "refunded",
          aggregation: "rate",
        }),
        periods: all,
      },
      {
        definition: sqlKpi({
          ...base,
          name: "latest",
          column: "amount",
          aggregation: "last",
        }),
        periods: all,
      },
      {
        definition: sqlKpi({
          ...base,
          name: "big",
          column: "amount",
          aggregation: "sum",
          filter: "amount >= 50",
        }),
        periods: [NOV_2024],
      },
    ];
    const values = await fetchSqlValues(counter.client, requests, {
      vars: { region: "EU" },
    });
    assert.equal(counter.sent.length, 1, counter.sent.join("\n---\n"));
    const get = (name: string, p: Period) => {
      const v = values.get(valueKey(name, p));
      assert.equal(v?.error, null, `${name} ${p.label}: ${v?.error}`);
      return v?.value;
    };
    for (const p of PERIODS) {
      assert.equal(get("revenue", p), expected.sum(p));
      assert.equal(get("orders", p), expected.count(p));
      assert.equal(
        get("eu_orders", p),
        expected.count(p, (o) => o.region === "EU"),
      );
      assert.equal(get("priced", p), expected.countAmount(p));
      close(get("basket", p), expected.avg(p), `basket ${p.label}`);
      close(get("refund_rate", p), expected.rate(p), `refund_rate ${p.label}`);
      assert.equal(get("latest", p), expected.last(p));
    }
    assert.equal(
      get("big", NOV_2024),
      expected.sum(NOV_2024, (o) => (o.amount ?? 0) >= 50),
    );
    assert.equal(values.has(valueKey("big", OCT_2024)), false);
    // A period without rows: sum and count give 0, the others null.
    assert.equal(get("revenue", EMPTY), 0);
    assert.equal(get("orders", EMPTY), 0);
    assert.equal(get("basket", EMPTY), null);
    assert.equal(get("refund_rate", EMPTY), null);
    assert.equal(get("latest", EMPTY), null);
    assert.match(values.get(valueKey("basket", EMPTY))?.note ?? "", /No rows/);
  });

  test("rate is the share of truthy values over doubles, decimals and text, as in memory", async (fx) => {
    const double = {
      postgres: "DOUBLE PRECISION",
      mysql: "DOUBLE",
      clickhouse: "Nullable(Float64)",
    }[backend.dialect as string] ?? "REAL";
    const rows = [
      { day: "2024-11-02", score: 2.5, price: 2.5, word: "yes" },
      { day: "2024-11-03", score: 0, price: 0, word: "no" },
      { day: "2024-11-04", score: 7, price: 7, word: "0.00" },
      { day: "2024-11-05", score: null, price: null, word: null },
      { day: "2024-11-06", score: -1.5, price: -1.5, word: " OFF " },
      { day: "2024-11-07", score: 1e-9, price: 0.01, word: "true" },
      { day: "2024-11-08", score: 0, price: 0, word: "1" },
    ];
    await fx.exec(
      `CREATE TABLE ${fx.schema}.scores (day ${backend.types.date}, score ${double}, price ${backend.types.real}, word ${backend.types.text})`,
    );
    for (const row of rows) {
      const marks = backend.dialect === "postgres"
        ? "$1, $2, $3, $4"
        : "?, ?, ?, ?";
      await fx.exec(
        `INSERT INTO ${fx.schema}.scores (day, score, price, word) VALUES (${marks})`,
        [row.day, row.score, row.price, row.word],
      );
    }
    const columns = ["score", "price", "word"];
    const values = await fetchSqlValues(
      fx.client,
      columns.map((column) => ({
        definition: sqlKpi({
          name: column,
          table: `${fx.schema}.scores`,
          column,
          aggregation: "rate",
          timeColumn: "day",
        }),
        periods: [NOV_2024],
      })),
    );
    const inMemory = fetchDataFrameValues(
      { scores: rows },
      columns.map((column) => ({
        definition: {
          name: column,
          source: "dataframe",
          query: `scores.${column}`,
          aggregation: "rate",
          timeColumn: "day",
        },
        periods: [NOV_2024],
      })),
    );
    const want = { score: 4 / 6, price: 4 / 6, word: 3 / 6 };
    for (const column of columns) {
      const got = values.get(valueKey(column, NOV_2024));
      assert.equal(got?.error, null, `${column}: ${got?.error}`);
      const wanted = want[column as keyof typeof want];
      close(got?.value, wanted, `rate of ${column} in SQL`);
      close(
        inMemory.get(valueKey(column, NOV_2024))?.value,
        wanted,
        `rate of ${column} in memory`,
      );
    }
  });

  test("fuse: false sends one query per KPI per period and gives the same numbers", async (fx) => {
    const base = { table: `${fx.schema}.orders`, timeColumn: "order_date" };
    const requests: SqlValueRequest[] = [
      {
        definition: sqlKpi({
          ...base,
          name: "revenue",
          column: "amount",
          aggregation: "sum",
        }),
        periods: PERIODS,
      },
      {
        definition: sqlKpi({
          ...base,
          name: "latest",
          column: "amount",
          aggregation: "last",
        }),
        periods: PERIODS,
      },
      {
        definition: sqlKpi({
          name: "eu",
          query:
            `SELECT COUNT(*) FROM ${fx.schema}.orders WHERE region = 'EU' AND order_date >= {{ period_start }} AND order_date < {{ period_end }}`,
        }),
        periods: PERIODS,
      },
    ];
    const separate = counting(fx.client);
    const fused = counting(fx.client);
    const a = await fetchSqlValues(separate.client, requests, {
      fuse: false,
      maxConcurrency: 2,
    });
    const b = await fetchSqlValues(fused.client, requests);
    assert.equal(separate.sent.length, 9);
    assert.equal(fused.sent.length, 2);
    assert.ok(
      separate.peak() <= 2,
      `at most 2 queries at once, saw ${separate.peak()}`,
    );
    assert.deepEqual(
      [...a].map(([k, v]) => [k, v.value, v.error]).sort(),
      [...b].map(([k, v]) => [k, v.value, v.error]).sort(),
    );
    assert.equal(
      a.get(valueKey("eu", OCT_2024))?.value,
      expected.count(OCT_2024, (o) => o.region === "EU"),
    );
  });

  test("the plan sends exactly the number of queries it claims", async (fx) => {
    await fx.exec(
      `CREATE TABLE ${fx.schema}.refunds (id INTEGER, amount ${backend.types.real}, refunded_on ${backend.types.date})`,
    );
    const orders = { table: `${fx.schema}.orders`, timeColumn: "order_date" };
    const refunds = {
      table: `${fx.schema}.refunds`,
      timeColumn: "refunded_on",
    };
    const requests: SqlValueRequest[] = [
      ...["sum", "avg", "last"].map((aggregation, i) => ({
        definition: sqlKpi({
          ...orders,
          name: `o${i}`,
          column: "amount",
          aggregation: aggregation as "sum",
        }),
        periods: PERIODS,
      })),
      {
        definition: sqlKpi({
          ...refunds,
          name: "refunded",
          column: "amount",
          aggregation: "sum",
        }),
        periods: PERIODS,
      },
      {
        definition: sqlKpi({
          name: "t1",
          query:
            `SELECT COUNT(*) FROM ${fx.schema}.orders WHERE order_date < {{ period_end }}`,
        }),
        periods: PERIODS,
      },
      {
        definition: sqlKpi({ name: "t2", query: "SELECT 1 + {{ one }}" }),
        periods: [NOV_2024],
      },
    ];
    const options = { vars: { one: 1 } };
    const planned = planSqlQueries(backend.dialect, requests, options);
    const counter = counting(fx.client);
    const values = await fetchSqlValues(counter.client, requests, options);
    assert.equal(planned.length, 4);
    assert.equal(counter.sent.length, planned.length);
    assert.deepEqual(counter.sent, planned.map((q) => q.sql));
    for (const [key, value] of values) assert.equal(value.error, null, key);
    assert.equal(values.get(valueKey("refunded", NOV_2024))?.value, 0);
    assert.equal(values.get(valueKey("t2", NOV_2024))?.value, 2);
  });

  test("one broken KPI in a fused query does not sink the others", async (fx) => {
    const counter = counting(fx.client);
    const base = { table: `${fx.schema}.orders`, timeColumn: "order_date" };
    const requests: SqlValueRequest[] = [
      {
        definition: sqlKpi({
          ...base,
          name: "revenue",
          column: "amount",
          aggregation: "sum",
        }),
        periods: PERIODS,
      },
      {
        definition: sqlKpi({
          ...base,
          name: "broken",
          column: "no_such_column",
          aggregation: "sum",
        }),
        periods: PERIODS,
      },
      {
        definition: sqlKpi({
          ...base,
          name: "bad_filter",
          column: "*",
          aggregation: "count",
          filter: "nonexistent_flag = 1",
        }),
        periods: PERIODS,
      },
      {
        definition: sqlKpi({
          ...base,
          name: "orders",
          column: "*",
          aggregation: "count",
        }),
        periods: PERIODS,
      },
    ];
    const values = await fetchSqlValues(counter.client, requests);
    for (const p of PERIODS) {
      assert.equal(values.get(valueKey("revenue", p))?.value, expected.sum(p));
      assert.equal(values.get(valueKey("orders", p))?.value, expected.count(p));
      assert.match(
        values.get(valueKey("broken", p))?.error ?? "",
        /no_such_column/i,
      );
      assert.match(
        values.get(valueKey("bad_filter", p))?.error ?? "",
        /nonexistent_flag/i,
      );
    }
    assert.equal(
      counter.sent.length,
      1 + 2 + 4,
      "the fused query, its two halves, then one per KPI of each failed half",
    );
  });

  test("a template that cannot be nested falls back to one query per period", async (fx) => {
    const counter = counting(fx.client);
    // Two columns of the same name: fine alone, refused as a derived table on
    // some dialects; the shape check then reports the real problem per period.
    const definition = sqlKpi({
      name: "twice",
      query:
        `SELECT COUNT(*) AS n, COUNT(*) AS n FROM ${fx.schema}.orders WHERE order_date >= {{ period_start }} AND order_date < {{ period_end }}`,
    });
    const values = await fetchSqlValues(counter.client, [{
      definition,
      periods: PERIODS,
    }]);
    for (const p of PERIODS) {
      assert.match(
        values.get(valueKey("twice", p))?.error ?? "",
        /2 columns; expected one row with one numeric column/,
      );
    }
    assert.ok(
      counter.sent.length === 1 || counter.sent.length === 4,
      `sent ${counter.sent.length}`,
    );
  });

  test("a vars value with SQL in it arrives as a value and the table survives", async (fx) => {
    const evil = "'; DROP TABLE orders; --";
    const requests: SqlValueRequest[] = [
      {
        definition: sqlKpi({
          name: "quoted",
          query:
            `SELECT COUNT(*) FROM ${fx.schema}.orders WHERE region = '{{ region }}' AND order_date >= '{{ period_start }}'`,
        }),
        periods: PERIODS,
      },
      {
        definition: sqlKpi({
          name: "bare",
          query:
            `SELECT COUNT(*) FROM ${fx.schema}.orders WHERE region <> {{ region }}`,
        }),
        periods: [NOV_2024],
      },
      {
        definition: sqlKpi({
          name: "filtered",
          table: `${fx.schema}.orders`,
          timeColumn: "order_date",
          column: "*",
          aggregation: "count",
          filter: "region = {{ region }} OR region = '{{ region }}'",
        }),
        periods: [NOV_2024],
      },
    ];
    const values = await fetchSqlValues(fx.client, requests, {
      vars: { region: evil },
    });
    for (const p of PERIODS) {
      assert.equal(values.get(valueKey("quoted", p))?.value, 0);
    }
    assert.equal(values.get(valueKey("bare", NOV_2024))?.value, ORDERS.length);
    assert.equal(values.get(valueKey("filtered", NOV_2024))?.value, 0);
    assert.equal(
      await fx.scalar(`SELECT COUNT(*) FROM ${fx.schema}.orders`),
      ORDERS.length,
    );
  });

  test("a query of the wrong shape is an error saying what came back and what was expected", async (fx) => {
    const t = `${fx.schema}.orders`;
    const range =
      "order_date >= {{ period_start }} AND order_date < {{ period_end }}";
    const cases: [string, string, RegExp][] = [
      [
        "two_columns",
        `SELECT COUNT(*), SUM(amount) FROM ${t} WHERE ${range}`,
        /returned a row of 2 columns; expected one row with one numeric column/,
      ],
      [
        "many_rows",
        `SELECT id FROM ${t} WHERE ${range}`,
        /returned \d+ rows; expected one row with one numeric column/,
      ],
      [
        "no_rows",
        `SELECT id FROM ${t} WHERE id < 0 AND ${range}`,
        /returned no rows; expected one row/,
      ],
      [
        "text",
        `SELECT MAX(region) FROM ${t} WHERE ${range}`,
        /returned "(EU|US|APAC)" \(a string\); expected a number/,
      ],
    ];
    for (const periods of [[NOV_2024], PERIODS]) {
      const values = await fetchSqlValues(
        fx.client,
        cases.map(([name, query]) => ({
          definition: sqlKpi({ name, query }),
          periods,
        })),
      );
      for (const [name, , pattern] of cases) {
        for (const p of periods) {
          const v = values.get(valueKey(name, p));
          assert.equal(v?.value, null);
          assert.match(
            v?.error ?? "",
            pattern,
            `${name} over ${periods.length} periods`,
          );
        }
      }
    }
  });

  test("an unknown template variable is an error naming it and the known ones", async (fx) => {
    const values = await fetchSqlValues(fx.client, [{
      definition: sqlKpi({
        name: "r",
        query:
          `SELECT COUNT(*) FROM ${fx.schema}.orders WHERE region = {{ regoin }}`,
      }),
      periods: [NOV_2024],
    }], { vars: { region: "EU" } });
    assert.equal(
      values.get(valueKey("r", NOV_2024))?.error,
      'Unknown template variable "regoin": expected one of period_start, period_end, region',
    );
  });

  test("a template ending with ORDER BY, LIMIT and a semicolon still fuses", async (fx) => {
    const counter = counting(fx.client);
    const definition = sqlKpi({
      name: "latest",
      query:
        `SELECT amount FROM ${fx.schema}.orders\nWHERE order_date >= {{ period_start }} AND order_date < {{ period_end }} AND amount IS NOT NULL\nORDER BY order_date DESC LIMIT 1; -- the newest`,
    });
    const values = await fetchSqlValues(counter.client, [{
      definition,
      periods: PERIODS,
    }]);
    assert.equal(counter.sent.length, 1);
    for (const p of PERIODS) {
      assert.equal(values.get(valueKey("latest", p))?.value, expected.last(p));
    }
  });

  test("a template with a WITH clause fuses like any other", async (fx) => {
    const counter = counting(fx.client);
    const definition = sqlKpi({
      name: "eu_revenue",
      query: `WITH eu AS (
  SELECT amount, order_date FROM ${fx.schema}.orders WHERE region = 'EU'
)
SELECT SUM(amount) FROM eu
WHERE order_date >= {{ period_start }} AND order_date < {{ period_end }}`,
    });
    const values = await fetchSqlValues(counter.client, [{
      definition,
      periods: PERIODS,
    }]);
    assert.equal(counter.sent.length, 1);
    for (const p of PERIODS) {
      assert.equal(
        values.get(valueKey("eu_revenue", p))?.value,
        expected.sum(p, (o) => o.region === "EU"),
      );
    }
  });

  test("queries run read-only: a writing template fails and changes nothing", async (fx) => {
    const values = await fetchSqlValues(fx.client, [{
      definition: sqlKpi({
        name: "wipe",
        query:
          `DELETE FROM ${fx.schema}.orders WHERE order_date >= {{ period_start }}`,
      }),
      periods: [NOV_2024],
    }]);
    assert.match(
      values.get(valueKey("wipe", NOV_2024))?.error ?? "",
      /read.?only|query_only/i,
    );
    assert.equal(
      await fx.scalar(`SELECT COUNT(*) FROM ${fx.schema}.orders`),
      ORDERS.length,
    );
  });

  test("text outside {{ }} stays as written: quotes, ? and $1 in strings, comments", async (fx) => {
    const values = await fetchSqlValues(fx.client, [{
      definition: sqlKpi({
        name: "n",
        query:
          `SELECT COUNT(*) -- what? {{ not_a_var }} $1\nFROM ${fx.schema}.orders /* ? */\nWHERE region <> 'it''s ? $1 {{x' AND order_date >= {{ period_start }} AND order_date < '{{ period_end }}'`,
      }),
      periods: PERIODS,
    }]);
    for (const p of PERIODS) {
      const v = values.get(valueKey("n", p));
      assert.equal(v?.error, null);
      assert.equal(v?.value, expected.count(p));
    }
  });

  test("a variable inside a longer string is bound and concatenated", async (fx) => {
    const values = await fetchSqlValues(fx.client, [{
      definition: sqlKpi({
        name: "eu",
        query:
          `SELECT COUNT(*) FROM ${fx.schema}.orders WHERE region LIKE '{{ prefix }}%' AND order_date >= {{ period_start }} AND order_date < {{ period_end }}`,
      }),
      periods: PERIODS,
    }], { vars: { prefix: "E" } });
    for (const p of PERIODS) {
      assert.equal(
        values.get(valueKey("eu", p))?.value,
        expected.count(p, (o) => o.region === "EU"),
      );
    }
  });

  test("breakdowns and drivers by region and channel are one query per table and match the in-memory engine", async (fx) => {
    const counter = counting(fx.client);
    const shapes = [
      { name: "revenue", column: "amount", aggregation: "sum" as const },
      { name: "orders", column: "*", aggregation: "count" as const },
      { name: "basket", column: "amount", aggregation: "avg" as const },
      { name: "refund_rate", column: "refunded", aggregation: "rate" as const },
    ];
    const common = {
      timeColumn: "order_date",
      dimensions: ["region", "channel"],
      compare: ["MoM" as const, "YoY" as const],
    };
    const inSql = new KPIEngine({
      kpis: [
        ...shapes.map((k) =>
          sqlKpi({ ...k, ...common, table: `${fx.schema}.orders` })
        ),
        { name: "aov", source: "derived", expression: "revenue / orders" },
      ],
      sql: counter.client,
    });
    const inMemory = new KPIEngine({
      kpis: [
        ...shapes.map((k) => ({
          name: k.name,
          source: "dataframe" as const,
          query: `orders.${k.column === "*" ? "id" : k.column}`,
          aggregation: k.aggregation,
          ...common,
        })),
        { name: "aov", source: "derived", expression: "revenue / orders" },
      ],
      dataframes: { orders: ORDERS.map((o) => ({ ...o, order_date: o.day })) },
    });
    const options = { by: ["region", "channel"], top: 3 };
    const fromSql = await inSql.breakdowns(NOV_2024, options);
    assert.equal(
      counter.sent.length,
      1,
      "one query for every KPI, dimension and period",
    );
    const fromMemory = await inMemory.breakdowns(NOV_2024, options);
    assert.equal(fromSql.length, 5);
    for (const [i, breakdown] of fromSql.entries()) {
      assert.equal(breakdown.error, null, breakdown.name);
      const other = fromMemory[i]!;
      close(breakdown.value, other.value, `${breakdown.name} total`);
      for (const [j, dim] of breakdown.dimensions.entries()) {
        const twin = other.dimensions[j]!;
        assert.deepEqual(
          dim.rows.map((r) => [r.segment, r.other ?? 0]),
          twin.rows.map((r) => [r.segment, r.other ?? 0]),
          `${breakdown.name} by ${dim.dimension}`,
        );
        dim.rows.forEach((row, k) => {
          close(
            row.value,
            twin.rows[k]!.value,
            `${breakdown.name} ${JSON.stringify(row.segment)}`,
          );
          close(
            row.comparisons.YoY?.previousValue ?? null,
            twin.rows[k]!.comparisons.YoY?.previousValue ?? null,
            "YoY base",
          );
        });
      }
    }
    // NULL channels form their own segment; additive rows add up to the total.
    const revenue = fromSql[0]!;
    const byChannel = revenue.dimensions[1]!;
    assert.equal(byChannel.segments, 4);
    assert.equal(
      decimalSum(byChannel.rows.map((r) => r.value ?? 0)),
      expected.sum(NOV_2024),
    );
    const nulls = expected.sum(NOV_2024, (o) => o.channel === null);
    const folded = byChannel.rows.find((r) => r.segment.channel === null);
    if (folded) close(folded.value, nulls, "NULL channel");

    const why = await inSql.drivers("revenue", NOV_2024, {
      compare: "MoM",
      by: "region",
    });
    const whyMemory = await inMemory.drivers("revenue", NOV_2024, {
      compare: "MoM",
      by: "region",
    });
    assert.equal(why.change, expected.sum(NOV_2024) - expected.sum(OCT_2024));
    assert.equal(
      decimalSum(why.drivers.map((d) => d.contribution)),
      why.change,
    );
    assert.deepEqual(why.drivers, whyMemory.drivers);
    const ratio = await inSql.drivers("aov", NOV_2024, { compare: "YoY" });
    const ratioMemory = await inMemory.drivers("aov", NOV_2024, {
      compare: "YoY",
    });
    assert.equal(ratio.method, "ratio");
    // A ratio's parts come from float sums, which a database may add in any
    // order (DuckDB in parallel): equal to the last digits kept, not bit for bit.
    assert.deepEqual(
      ratio.drivers.map((d) => d.segment),
      ratioMemory.drivers.map((d) => d.segment),
    );
    ratio.drivers.forEach((d, i) => {
      const twin = ratioMemory.drivers[i]!;
      for (
        const field of [
          "value",
          "previousValue",
          "contribution",
          "contributionPct",
          "rateEffect",
          "mixEffect",
        ] as const
      ) {
        close(
          d[field] ?? null,
          twin[field] ?? null,
          `aov ${JSON.stringify(d.segment)} ${field}`,
        );
      }
    });
    close(ratio.change, ratioMemory.change, "aov change");
  });

  test("values lose binary noise but keep every digit of the data, from floats and decimals alike", async (fx) => {
    const { date, float, decimal } = backend.types;
    await fx.exec(
      `CREATE TABLE ${fx.schema}.nums (day ${date}, x ${float}, d ${decimal})`,
    );
    const rows: [string, number, number][] = [
      ["2024-11-02", 0.1, 12345678901000],
      ["2024-11-03", 0.2, 234.56],
      ["2024-10-05", 12345678901234.56, 12345678901234.56],
    ];
    for (const row of rows) {
      await fx.exec(
        backend.dialect === "postgres"
          ? `INSERT INTO ${fx.schema}.nums VALUES ($1, $2, $3)`
          : `INSERT INTO ${fx.schema}.nums VALUES (?, ?, ?)`,
        row,
      );
    }
    const raw = await fx.scalar(
      `SELECT SUM(x) FROM ${fx.schema}.nums WHERE day >= '2024-11-01'`,
    );
    assert.notEqual(raw, 0.3, "the database's own sum carries the noise");
    const base = { table: `${fx.schema}.nums`, timeColumn: "day" };
    const kpi = (name: string, column: string, aggregation: "sum" | "last") =>
      ({
        definition: sqlKpi({ ...base, name, column, aggregation }),
        periods: [NOV_2024, OCT_2024],
      }) satisfies SqlValueRequest;
    const values = await fetchSqlValues(fx.client, [
      kpi("x_sum", "x", "sum"),
      kpi("d_sum", "d", "sum"),
      kpi("x_last", "x", "last"),
      kpi("d_last", "d", "last"),
      {
        definition: sqlKpi({
          name: "x_template",
          query:
            `SELECT SUM(x) FROM ${fx.schema}.nums WHERE day >= {{ period_start }} AND day < {{ period_end }}`,
        }),
        periods: [NOV_2024, OCT_2024],
      },
    ]);
    const got = (name: string, p: Period) => {
      const v = values.get(valueKey(name, p));
      assert.equal(v?.error, null, `${name}: ${v?.error}`);
      return v?.value;
    };
    assert.equal(got("x_sum", NOV_2024), 0.3);
    assert.equal(got("x_template", NOV_2024), 0.3);
    assert.equal(got("d_sum", NOV_2024), 12345678901234.56);
    assert.equal(got("x_sum", OCT_2024), 12345678901234.56);
    assert.equal(got("x_last", OCT_2024), 12345678901234.56);
    assert.equal(got("d_last", OCT_2024), 12345678901234.56);
    assert.equal(got("d_last", NOV_2024), 234.56);
  });

  test("overlapping ranges are read in one query and give the same numbers", async (fx) => {
    const counter = counting(fx.client);
    const base = { table: `${fx.schema}.orders`, timeColumn: "order_date" };
    const late = period("2024-10-15", "2024-11-15");
    const periods = [NOV_2024, late, OCT_2024];
    const kpi = (name: string, aggregation: "sum" | "count" | "last") => ({
      definition: sqlKpi({ ...base, name, column: "amount", aggregation }),
      periods,
    });
    const values = await fetchSqlValues(counter.client, [
      kpi("revenue", "sum"),
      kpi("priced", "count"),
      kpi("latest", "last"),
    ]);
    assert.equal(counter.sent.length, 1);
    const sql = counter.sent[0] ?? "";
    if (backend.rangeByRange) {
      // One SELECT per range, each with its own plain range condition.
      assert.equal(sql.match(/UNION ALL/g)?.length, periods.length - 1);
      assert.doesNotMatch(sql, /\bOR\b/);
    } else assert.doesNotMatch(sql, /UNION ALL/);
    for (const p of periods) {
      const get = (name: string) => values.get(valueKey(name, p))?.value;
      assert.equal(get("revenue"), expected.sum(p), p.label);
      assert.equal(get("priced"), expected.countAmount(p), p.label);
      assert.equal(get("latest"), expected.last(p), p.label);
    }
  });

  if (backend.timeIndexes === false) return;
  test("with an index on the time column, each range is read through it and last looked up down it", async (fx) => {
    const base = { table: `${fx.schema}.orders`, timeColumn: "order_date" };
    const kpi = (name: string, aggregation: "sum" | "count" | "last") => ({
      definition: sqlKpi({ ...base, name, column: "amount", aggregation }),
      periods: [...PERIODS, EMPTY],
    });
    const requests = [
      kpi("revenue", "sum"),
      kpi("priced", "count"),
      kpi("latest", "last"),
    ];
    const before = counting(fx.client);
    const scanned = await fetchSqlValues(before.client, requests);
    assert.doesNotMatch(before.sent[0] ?? "", /UNION ALL/);
    await fx.exec(
      backend.dialect === "sqlite"
        ? `CREATE INDEX ${fx.schema}.orders_day ON orders (order_date)`
        : `CREATE INDEX orders_day ON ${fx.schema}.orders (order_date)`,
    );
    const after = counting(fx.client);
    const indexed = await fetchSqlValues(after.client, requests);
    assert.equal(after.sent.length, 1);
    assert.match(after.sent[0] ?? "", /UNION ALL/);
    assert.match(after.sent[0] ?? "", /ORDER BY \S+ DESC LIMIT 1/);
    for (const p of [...PERIODS, EMPTY]) {
      const get = (name: string) => indexed.get(valueKey(name, p))?.value;
      assert.equal(get("revenue"), expected.sum(p), p.label);
      assert.equal(get("priced"), expected.countAmount(p), p.label);
      assert.equal(get("latest"), expected.last(p), p.label);
    }
    assert.deepEqual(
      [...indexed].map(([k, v]) => [k, v.value]).sort(),
      [...scanned].map(([k, v]) => [k, v.value]).sort(),
    );
  });
}
