import assert from "node:assert/strict";
import mysql from "mysql2/promise";
import {
  counting,
  defineSqlBackendSuite,
  NOV_2024,
  period,
  PERIODS,
  type SqlFixture,
} from "./_sql_backend_suite.ts";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";
import { fetchSqlValues } from "../src/sql/fetch_sql_values.ts";
import { fetchSeriesSql } from "../src/series/fetch_series_sql.ts";
import { valueKey } from "../src/_value_key.ts";
import type { KPIDefinition } from "../src/types.ts";

const URL = "mysql://root@127.0.0.1:3306/test";

function uniqueName(): string {
  return `kpi_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

async function fixture(
  url = URL,
): Promise<SqlFixture & { admin: mysql.Connection }> {
  const schema = uniqueName();
  const admin = await mysql.createConnection({
    host: "127.0.0.1",
    port: 3306,
    user: "root",
    database: "test",
  });
  await admin.query("SET time_zone = '+00:00'");
  await admin.query(`CREATE DATABASE ${schema}`);
  const client = await openSqlClient(url, { maxConnections: 4 });
  return {
    schema,
    admin,
    client,
    async exec(sql, params = []) {
      await admin.execute(
        sql,
        params.map((v) => typeof v === "boolean" ? (v ? 1 : 0) : v) as never[],
      );
    },
    async scalar(sql) {
      const [rows] = await admin.query({ sql, rowsAsArray: true });
      return Number((rows as unknown[][])[0]?.[0]);
    },
    async close() {
      await client.close();
      await admin.query(`DROP DATABASE ${schema}`);
      await admin.end();
    },
  };
}

defineSqlBackendSuite({
  name: "mariadb",
  dialect: "mysql",
  types: {
    real: "DECIMAL(10, 2)",
    date: "DATE",
    text: "VARCHAR(16)",
    bool: "BOOLEAN",
    float: "DOUBLE",
    decimal: "DECIMAL(18, 2)",
  },
  open: () => fixture(),
});

Deno.test("[mariadb] a timeout cancels the query on the server, well before it would end", async () => {
  const fx = await fixture();
  try {
    const marker = uniqueName();
    const counter = counting(fx.client);
    const definition: KPIDefinition = {
      name: "slow",
      source: "sql",
      timeoutMs: 300,
      query:
        `SELECT SLEEP(5) + LENGTH('${marker}') + LENGTH({{ period_start }})`,
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
      `SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%${marker}%' AND ID <> CONNECTION_ID()`,
    );
    assert.equal(running, 0);
  } finally {
    await fx.close();
  }
});

Deno.test("[mariadb] a refused connection names host and database, never the password", async () => {
  const client = await openSqlClient(
    "mariadb://kpi_user:s3cret-Pa55@127.0.0.1:1/kpi_warehouse",
  );
  const counter = counting(client);
  try {
    const values = await fetchSqlValues(counter.client, [{
      definition: {
        name: "x",
        source: "sql",
        query: "SELECT DATEDIFF({{ period_end }}, {{ period_start }})",
      },
      periods: PERIODS,
    }]);
    const error = values.get(valueKey("x", NOV_2024))?.error ?? "";
    assert.match(error, /127\.0\.0\.1:1/);
    assert.match(error, /kpi_warehouse/);
    assert.doesNotMatch(error, /s3cret-Pa55/);
    assert.equal(counter.sent.length, 1);
  } finally {
    await client.close();
  }
});

Deno.test("[mariadb] the session time zone is the period's, so TIMESTAMP days are cut there", async () => {
  const fx = await fixture();
  try {
    await fx.exec(`CREATE TABLE ${fx.schema}.events (at TIMESTAMP NULL)`);
    // 16:30 UTC on October 31 is 01:30 on November 1 in Tokyo (no DST there).
    await fx.exec(
      `INSERT INTO ${fx.schema}.events VALUES ('2024-10-31 16:30:00'), ('2024-11-15 12:00:00')`,
    );
    const definition: KPIDefinition = {
      name: "events",
      source: "sql",
      table: `${fx.schema}.events`,
      column: "*",
      aggregation: "count",
      timeColumn: "at",
    };
    const utc = await fetchSqlValues(fx.client, [{
      definition,
      periods: [NOV_2024],
    }]);
    assert.equal(utc.get(valueKey("events", NOV_2024))?.value, 1);
    const tokyo = { ...NOV_2024, timezone: "Asia/Tokyo" };
    const inTokyo = await fetchSqlValues(fx.client, [{
      definition,
      periods: [tokyo],
    }]);
    assert.equal(inTokyo.get(valueKey("events", tokyo))?.value, 2);
  } finally {
    await fx.close();
  }
});

Deno.test("[mariadb] a caller's mysql2 pool is used as is and left open", async () => {
  const pool = mysql.createPool({
    host: "127.0.0.1",
    user: "root",
    database: "test",
    connectionLimit: 2,
  });
  try {
    const client = await openSqlClient(pool);
    assert.equal(client.dialect, "mysql");
    const values = await fetchSqlValues(client, [{
      definition: {
        name: "days",
        source: "sql",
        query: "SELECT DATEDIFF('{{ period_end }}', '{{ period_start }}')",
      },
      periods: [NOV_2024, period("2024-02-01", "2024-03-01")],
    }]);
    assert.equal(values.get(valueKey("days", NOV_2024))?.value, 30);
    assert.equal(
      values.get(valueKey("days", period("2024-02-01", "2024-03-01")))?.value,
      29,
    );
    await client.close();
    const [rows] = await pool.query({ sql: "SELECT 1", rowsAsArray: true });
    assert.deepEqual(rows, [[1]]);
  } finally {
    await pool.end();
  }
});

Deno.test("[mariadb] identifiers are quoted with backticks, so reserved words work as names", async () => {
  const fx = await fixture();
  try {
    await fx.exec(
      `CREATE TABLE ${fx.schema}.\`order\` (\`key\` INT, \`date\` DATE)`,
    );
    await fx.exec(
      `INSERT INTO ${fx.schema}.\`order\` VALUES (1, '2024-11-02'), (2, '2024-11-03'), (5, '2024-10-03')`,
    );
    const values = await fetchSqlValues(fx.client, [{
      definition: {
        name: "keys",
        source: "sql",
        table: `${fx.schema}.order`,
        column: "key",
        aggregation: "sum",
        timeColumn: "date",
      },
      periods: [NOV_2024],
    }]);
    assert.equal(values.get(valueKey("keys", NOV_2024))?.value, 3);
  } finally {
    await fx.close();
  }
});

Deno.test("[mariadb] without time zone tables, a DST-crossing month in America/New_York is cut at local midnight for DATE, DATETIME and TIMESTAMP columns, in templates and series too", async () => {
  const fx = await fixture();
  try {
    const [zones] = await fx.admin.query({
      sql:
        "SELECT CONVERT_TZ('2024-11-01 00:00:00', '+00:00', 'America/New_York')",
      rowsAsArray: true,
    });
    assert.equal(
      (zones as unknown[][])[0]?.[0],
      null,
      "this server has no time zone tables",
    );
    await fx.exec(
      `CREATE TABLE ${fx.schema}.events (at TIMESTAMP NULL, local_at DATETIME, day DATE, weight INTEGER)`,
    );
    // New York: November 1 starts at 04:00 UTC (EDT), December 1 at 05:00 UTC
    // (EST); July 1 and August 1 both at 04:00 UTC. Weights tell the rows
    // apart: only 10 and 100 lie inside each month.
    const rows: [string, string, string, number][] = [
      ["2024-11-01 03:30:00", "2024-10-31 23:30:00", "2024-10-31", 1],
      ["2024-11-01 04:30:00", "2024-11-01 00:30:00", "2024-11-01", 10],
      ["2024-12-01 04:30:00", "2024-11-30 23:30:00", "2024-11-30", 100],
      ["2024-12-01 05:30:00", "2024-12-01 00:30:00", "2024-12-01", 1000],
      ["2024-07-01 03:30:00", "2024-06-30 23:30:00", "2024-06-30", 1],
      ["2024-07-01 04:30:00", "2024-07-01 00:30:00", "2024-07-01", 10],
      ["2024-08-01 03:30:00", "2024-07-31 23:30:00", "2024-07-31", 100],
      ["2024-08-01 04:30:00", "2024-08-01 00:30:00", "2024-08-01", 1000],
    ];
    for (const row of rows) {
      await fx.exec(`INSERT INTO ${fx.schema}.events VALUES (?, ?, ?, ?)`, row);
    }
    const month = (start: string, end: string) => ({
      ...period(start, end),
      timezone: "America/New_York",
    });
    const nov = month("2024-11-01", "2024-12-01");
    const jul = month("2024-07-01", "2024-08-01");
    const structured = (column: string): KPIDefinition => ({
      name: `by_${column}`,
      source: "sql",
      table: `${fx.schema}.events`,
      column: "weight",
      aggregation: "sum",
      timeColumn: column,
    });
    const template = (column: string): KPIDefinition => ({
      name: `template_${column}`,
      source: "sql",
      query:
        `SELECT SUM(weight) FROM ${fx.schema}.events WHERE ${column} >= {{ period_start }} AND ${column} < '{{ period_end }}'`,
    });
    const periods = [nov, jul];
    const values = await fetchSqlValues(fx.client, [
      ...["at", "local_at", "day"].map((column) => ({
        definition: structured(column),
        periods,
      })),
      ...["local_at", "day", "at"].map((column) => ({
        definition: template(column),
        periods,
      })),
      // Other ways to write the comparison with the TIMESTAMP column.
      {
        definition: {
          name: "template_reversed",
          source: "sql",
          query:
            `SELECT SUM(e.weight) FROM ${fx.schema}.events AS e WHERE {{ period_start }} <= e.\`at\` AND '{{ period_end }}' > e.at`,
        },
        periods,
      },
      {
        definition: {
          name: "template_between",
          source: "sql",
          query:
            `SELECT SUM(weight) FROM ${fx.schema}.events WHERE at BETWEEN {{ period_start }} AND {{ period_end }} AND at < {{ period_end }}`,
        },
        periods,
      },
    ]);
    const names = [
      "by_at",
      "by_local_at",
      "by_day",
      "template_local_at",
      "template_day",
      "template_at",
      "template_reversed",
      "template_between",
    ];
    for (const name of names) {
      for (const p of periods) {
        const got = values.get(valueKey(name, p));
        assert.equal(got?.error, null, `${name} ${p.start}: ${got?.error}`);
        assert.equal(got?.value, 110, `${name} ${p.start}`);
      }
    }
    // A series: one grouped query per time column, the same values.
    const sent: string[] = [];
    const counted = {
      ...fx.client,
      query: (sql: string, params: readonly unknown[], options?: object) => {
        sent.push(sql);
        return fx.client.query(sql, params, options);
      },
    };
    const months = [
      month("2024-10-01", "2024-11-01"),
      nov,
      month("2024-12-01", "2025-01-01"),
      jul,
    ];
    const series = await fetchSeriesSql(counted, [
      ...["at", "local_at", "day"].map((column) => ({
        definition: structured(column),
        periods: months,
      })),
      { definition: template("at"), periods: months },
    ]);
    for (const name of ["by_at", "by_local_at", "by_day", "template_at"]) {
      assert.deepEqual(
        months.map((p) => series.get(valueKey(name, p))?.value),
        [1, 110, 1000, 110],
        name,
      );
    }
    assert.equal(sent.filter((q) => /GROUP BY 1/.test(q)).length, 3);
  } finally {
    await fx.close();
  }
});
