import assert from "node:assert/strict";
import postgres from "postgres";
import { parse as parseYaml } from "yaml";
import {
  counting,
  defineSqlBackendSuite,
  NOV_2024,
  ORDERS,
  period,
  PERIODS,
  type SqlFixture,
} from "./_sql_backend_suite.ts";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";
import {
  fetchSqlValues,
  RETRY_BUDGET,
  type SqlValueRequest,
} from "../src/sql/fetch_sql_values.ts";
import { valueKey } from "../src/_value_key.ts";
import type { KPIDefinition } from "../src/types.ts";

const URL = "postgres://postgres@127.0.0.1:5432/test";

function uniqueName(): string {
  return `kpi_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

async function fixture(): Promise<SqlFixture & { admin: postgres.Sql }> {
  const schema = uniqueName();
  const admin = postgres(URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  const client = await openSqlClient(URL, { maxConnections: 4 });
  return {
    schema,
    admin,
    client,
    async exec(sql, params = []) {
      await admin.unsafe(sql, params as never[]);
    },
    async scalar(sql) {
      const [row] = await admin.unsafe(sql).values();
      return Number(row?.[0]);
    },
    async close() {
      await client.close();
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

defineSqlBackendSuite({
  name: "postgres",
  dialect: "postgres",
  types: {
    real: "NUMERIC(10, 2)",
    date: "DATE",
    text: "TEXT",
    bool: "BOOLEAN",
    float: "DOUBLE PRECISION",
    decimal: "NUMERIC(18, 2)",
  },
  open: fixture,
});

/** The reference package's quick start, indented as YAML. */
const QUICK_START = `
kpis:
  - name: monthly_revenue
    label: Monthly Revenue
    source: sql
    query: >
      SELECT SUM(amount) FROM orders
      WHERE order_date >= '{{ period_start }}'::date
      AND order_date < '{{ period_end }}'::date
    aggregation: sum
    unit: USD
    compare: [MoM, YoY]
`;

Deno.test("[postgres] the reference package's quick start query runs as written", async () => {
  const fx = await fixture();
  const sql = postgres(URL, {
    max: 2,
    onnotice: () => {},
    connection: { search_path: fx.schema },
  });
  try {
    await fx.exec(
      `CREATE TABLE ${fx.schema}.orders (amount NUMERIC(10, 2), order_date DATE)`,
    );
    await fx.exec(
      `INSERT INTO ${fx.schema}.orders VALUES (100.5, '2024-11-01'), (200, '2024-11-30'), (50, '2024-12-01'), (25, '2024-10-31'), (1000, '2023-11-15')`,
    );
    const kpi =
      (parseYaml(QUICK_START) as { kpis: { query: string; name: string }[] })
        .kpis[0]!;
    assert.match(kpi.query, /'\{\{ period_start \}\}'::date/);
    const client = await openSqlClient(sql);
    const counter = counting(client);
    const definition: KPIDefinition = {
      name: kpi.name,
      source: "sql",
      query: kpi.query,
    };
    const [mom, yoy] = [
      period("2024-10-01", "2024-11-01"),
      period("2023-11-01", "2023-12-01"),
    ];
    const values = await fetchSqlValues(counter.client, [{
      definition,
      periods: [NOV_2024, mom!, yoy!],
    }]);
    assert.equal(counter.sent.length, 1);
    assert.equal(values.get(valueKey(kpi.name, NOV_2024))?.value, 300.5);
    assert.equal(values.get(valueKey(kpi.name, mom!))?.value, 25);
    assert.equal(values.get(valueKey(kpi.name, yoy!))?.value, 1000);
    await client.close();
    // The caller's instance is still usable: close() left it open.
    assert.equal((await sql`SELECT 1 AS one`)[0]?.one, 1);
  } finally {
    await sql.end();
    await fx.close();
  }
});

Deno.test("[postgres] a timeout cancels the query on the server, well before it would end", async () => {
  const fx = await fixture();
  try {
    const marker = uniqueName();
    const counter = counting(fx.client);
    const definition: KPIDefinition = {
      name: "slow",
      source: "sql",
      timeoutMs: 300,
      query:
        `SELECT COUNT(*) FROM pg_sleep(5) WHERE '${marker}' <> {{ period_start }}`,
    };
    const started = performance.now();
    const values = await fetchSqlValues(counter.client, [{
      definition,
      periods: PERIODS,
    }]);
    const elapsed = performance.now() - started;
    // Well before the 5 s the query would take uncanceled.
    assert.ok(elapsed < 4000, `returned after ${elapsed} ms`);
    for (const p of PERIODS) {
      assert.match(
        values.get(valueKey("slow", p))?.error ?? "",
        /canceled after 300 ms/,
      );
    }
    assert.equal(
      counter.sent.length,
      4,
      "a timed-out fused query is re-run once per period, within its budget",
    );
    const running = await fx.scalar(
      `SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE '%${marker}%' AND state = 'active' AND pid <> pg_backend_pid()`,
    );
    assert.equal(running, 0);
  } finally {
    await fx.close();
  }
});

Deno.test("[postgres] one slow KPI in a fused query that times out does not sink the others: halves, then single KPIs", async () => {
  const fx = await fixture();
  try {
    await fx.exec(
      `CREATE TABLE ${fx.schema}.events AS SELECT i AS id, DATE '2024-11-01' + (i % 30) AS day, i * 1.5 AS amount FROM generate_series(1, 60) AS i`,
    );
    const kpi = (name: string, filter?: string): SqlValueRequest => ({
      definition: {
        name,
        source: "sql",
        table: `${fx.schema}.events`,
        column: "amount",
        aggregation: "sum",
        timeColumn: "day",
        timeoutMs: 400,
        ...(filter ? { filter } : {}),
      },
      periods: PERIODS,
    });
    const counter = counting(fx.client);
    const started = performance.now();
    const values = await fetchSqlValues(counter.client, [
      kpi("a"),
      kpi("b", "amount > 10"),
      kpi("c", "id > 3"),
      // 60 rows in November, 20 ms each: over a second, alone or fused.
      kpi("slow", "pg_sleep(0.02) IS NOT NULL"),
    ]);
    const elapsed = performance.now() - started;
    // Fused (4 KPIs), halves (a b | c slow), then c and slow alone.
    assert.equal(counter.sent.length, 5, counter.sent.join("\n---\n"));
    assert.ok(
      elapsed < (RETRY_BUDGET + 1) * 400 + 1000,
      `within the retry budget: ${elapsed} ms`,
    );
    const nov = valueKey("a", PERIODS[0]!);
    assert.equal(values.get(nov)?.error, null);
    const total = Array.from({ length: 60 }, (_, i) => (i + 1) * 1.5).reduce(
      (s, v) => s + v,
    );
    assert.equal(values.get(nov)?.value, total);
    for (const name of ["a", "b", "c"]) {
      for (const p of PERIODS) {
        assert.equal(values.get(valueKey(name, p))?.error, null, name);
      }
    }
    assert.match(
      values.get(valueKey("slow", PERIODS[0]!))?.error ?? "",
      /canceled after \d+ ms|time allowed for its retries ran out/,
    );
  } finally {
    await fx.close();
  }
});

Deno.test("[postgres] a refused connection names host and database, never the password", async () => {
  const client = await openSqlClient(
    "postgres://kpi_user:s3cret-Pa55@127.0.0.1:1/kpi_warehouse",
  );
  const counter = counting(client);
  try {
    const values = await fetchSqlValues(counter.client, [{
      definition: {
        name: "x",
        source: "sql",
        query: "SELECT {{ period_start }}::date - {{ period_end }}::date",
      },
      periods: PERIODS,
    }]);
    const error = values.get(valueKey("x", NOV_2024))?.error ?? "";
    assert.match(error, /127\.0\.0\.1:1/);
    assert.match(error, /kpi_warehouse/);
    assert.doesNotMatch(error, /s3cret-Pa55/);
    assert.equal(
      counter.sent.length,
      1,
      "an unreachable database is not retried in pieces",
    );
  } finally {
    await client.close();
  }
});

Deno.test("[postgres] the session time zone is the period's, so timestamptz days are cut there", async () => {
  const fx = await fixture();
  try {
    await fx.exec(`CREATE TABLE ${fx.schema}.events (at TIMESTAMPTZ)`);
    // 23:30 UTC on October 31 is 00:30 on November 1 in Paris.
    await fx.exec(
      `INSERT INTO ${fx.schema}.events VALUES ('2024-10-31T23:30:00Z'), ('2024-11-15T12:00:00Z')`,
    );
    const definition: KPIDefinition = {
      name: "events",
      source: "sql",
      table: `${fx.schema}.events`,
      column: "*",
      aggregation: "count",
      timeColumn: "at",
    };
    const paris = { ...NOV_2024, timezone: "Europe/Paris" };
    const utc = await fetchSqlValues(fx.client, [{
      definition,
      periods: [NOV_2024],
    }]);
    assert.equal(utc.get(valueKey("events", NOV_2024))?.value, 1);
    const inParis = await fetchSqlValues(fx.client, [{
      definition,
      periods: [paris],
    }]);
    assert.equal(inParis.get(valueKey("events", paris))?.value, 2);
  } finally {
    await fx.close();
  }
});

Deno.test("[postgres] typed literals, booleans and numbers bind as parameters", async () => {
  const fx = await fixture();
  try {
    await fx.exec(
      `CREATE TABLE ${fx.schema}.orders (amount NUMERIC(10, 2), order_date DATE, refunded BOOLEAN)`,
    );
    const params: unknown[] = [];
    const rows = ORDERS.map((o) => {
      params.push(o.amount, o.day, o.refunded);
      const n = params.length;
      return `($${n - 2}, $${n - 1}, $${n})`;
    });
    await fx.exec(
      `INSERT INTO ${fx.schema}.orders VALUES ${rows.join(", ")}`,
      params,
    );
    const values = await fetchSqlValues(fx.client, [{
      definition: {
        name: "refunds",
        source: "sql",
        query:
          `SELECT COUNT(*) FROM ${fx.schema}.orders WHERE refunded = {{ flag }} AND amount > {{ min }} AND order_date >= DATE '{{ period_start }}' AND order_date < '{{ period_end }}'::date`,
      },
      periods: [NOV_2024],
    }], { vars: { flag: true, min: 0 } });
    const wanted = ORDERS.filter((o) =>
      o.refunded === true && (o.amount ?? 0) > 0 && o.day >= NOV_2024.start &&
      o.day < NOV_2024.end
    ).length;
    assert.equal(values.get(valueKey("refunds", NOV_2024))?.error, null);
    assert.equal(values.get(valueKey("refunds", NOV_2024))?.value, wanted);
  } finally {
    await fx.close();
  }
});

Deno.test("[postgres] each query runs read-only, with its statement_timeout, and JIT off", async () => {
  const client = await openSqlClient(URL);
  try {
    const values = await fetchSqlValues(client, [{
      definition: {
        name: "settings",
        source: "sql",
        timeoutMs: 1234,
        query: `SELECT (current_setting('transaction_read_only') = 'on')::int
  + 2 * (current_setting('statement_timeout') = '1234ms')::int
  + 4 * (current_setting('jit') = 'off')::int
  + 8 * (current_setting('TimeZone') = 'Europe/Paris')::int
  + 0 * length({{ period_start }})`,
      },
      periods: [{ ...NOV_2024, timezone: "Europe/Paris" }],
    }]);
    assert.equal(values.get(valueKey("settings", NOV_2024))?.value, 15);
  } finally {
    await client.close();
  }
});
