/**
 * `engine.series()` against `runKpi()` on every backend: each point must be
 * the value of a single-period run for that bucket, and both must match the
 * numbers computed here from the raw rows, across the DST changes of
 * Europe/London.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import postgres from "postgres";
import mysql from "mysql2/promise";
import { KPIEngine } from "../mod.ts";
import type { KPIDefinition, Period, SqlClient } from "../mod.ts";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";
import { counting } from "./_sql_backend_suite.ts";

const ZONE = "Europe/London";
const NOW = Temporal.Instant.from("2024-11-15T12:00:00Z");

interface Row {
  id: number;
  at: Temporal.Instant;
  amount: number | null;
  paid: boolean | null;
}

/** Rows every 50 minutes around both DST changes of 2024 in London. */
const ROWS: readonly Row[] = (() => {
  const rows: Row[] = [];
  const windows = [
    ["2024-03-18T00:00:00Z", "2024-04-09T00:00:00Z"],
    ["2024-10-14T00:00:00Z", "2024-11-05T00:00:00Z"],
  ] as const;
  for (const [from, to] of windows) {
    const end = Temporal.Instant.from(to);
    for (
      let at = Temporal.Instant.from(from);
      Temporal.Instant.compare(at, end) < 0;
      at = at.add({ minutes: 50 })
    ) {
      const i = rows.length;
      rows.push({
        id: i + 1,
        at,
        amount: i % 13 === 0 ? null : ((i * 37) % 100) + 0.25 * (i % 4),
        paid: i % 7 === 0 ? null : i % 3 !== 0,
      });
    }
  }
  return rows;
})();

/** The wall-clock time of a row in London, as DATETIME/TEXT columns keep it. */
function wallClock(at: Temporal.Instant): string {
  return at.toZonedDateTimeISO(ZONE).toPlainDateTime().toString({
    smallestUnit: "second",
  }).replace("T", " ");
}

function inPeriod(p: Period): Row[] {
  const start = Temporal.PlainDate.from(p.start).toZonedDateTime(ZONE)
    .epochMilliseconds;
  const end = Temporal.PlainDate.from(p.end).toZonedDateTime(ZONE)
    .epochMilliseconds;
  return ROWS.filter((r) =>
    r.at.epochMilliseconds >= start && r.at.epochMilliseconds < end
  );
}

/** `at` is the time column; `atInSql` how a template writes it (DuckDB reserves `at`). */
function kpis(table: string | null, atInSql = "at"): KPIDefinition[] {
  const structured = (
    name: string,
    column: string,
    aggregation: NonNullable<KPIDefinition["aggregation"]>,
    extra: Partial<KPIDefinition> = {},
  ): KPIDefinition =>
    table === null
      ? {
        name,
        source: "dataframe",
        query: `orders.${column === "*" ? "id" : column}`,
        aggregation,
        timeColumn: "at",
        compare: ["DoD", "WoW"],
        ...extra,
      }
      : {
        name,
        source: "sql",
        table,
        column,
        aggregation,
        timeColumn: "at",
        compare: ["DoD", "WoW"],
        ...extra,
      };
  const list: KPIDefinition[] = [
    structured("revenue", "amount", "sum"),
    structured("orders", "*", "count"),
    structured("basket", "amount", "avg"),
    structured("paid_rate", "paid", "rate"),
    structured("latest", "amount", "last"),
    {
      name: "per_order",
      source: "derived",
      expression: "revenue / orders",
      compare: ["WoW"],
    },
  ];
  if (table !== null) {
    list.push(
      structured("big", "*", "count", { filter: "amount >= 50" }),
      {
        name: "priced",
        source: "sql",
        query:
          `SELECT COUNT(amount) FROM ${table} WHERE ${atInSql} >= {{ period_start }} AND ${atInSql} < {{ period_end }}`,
        compare: ["DoD"],
      },
    );
  }
  return list;
}

const SPANS = [
  { grain: "day", from: "2024-03-27", to: "2024-04-02" },
  { grain: "week", from: "2024-03-25", to: "2024-04-07" },
  { grain: "day", from: "2024-10-25", to: "2024-10-29" },
  { grain: "month", from: "2024-03", to: "2024-04" },
] as const;

function near(actual: number | null, wanted: number | null, what: string) {
  if (actual === null || wanted === null) {
    assert.equal(actual, wanted, what);
    return;
  }
  assert.ok(
    Math.abs(actual - wanted) <= 1e-9 * Math.max(1, Math.abs(wanted)),
    `${what}: ${actual} is not ${wanted}`,
  );
}

async function checkEngine(
  backend: string,
  engine: KPIEngine,
  sent?: string[],
): Promise<void> {
  const names = engine.definitions.map((d) => d.name);
  for (const span of SPANS) {
    const before = sent?.length ?? 0;
    const { grain, points } = await engine.series(names, span);
    assert.equal(grain, span.grain);
    if (sent) {
      // One grouped query for the table (`last` included), one for the
      // template (MariaDB without time zone tables splits the template's
      // batch where the UTC offset changes): no fallback to separate queries.
      // (Metadata lookups, such as MariaDB's column types, aside.)
      const mine = sent.slice(before).filter((q) =>
        !/information_schema|CONVERT_TZ/i.test(q)
      );
      // BigQuery and Snowflake look `last` up per range: one batch more.
      const lastApart = /bigquery|snowflake/.test(backend) ? 1 : 0;
      assert.ok(
        mine.length >= 2 + lastApart && mine.length <= 3 + lastApart,
        mine.join("\n---\n"),
      );
      const grouped = mine.filter((q) => /GROUP BY 1/.test(q));
      assert.equal(grouped.length, 1);
      assert.equal(
        mine.filter((q) => !/GROUP BY 1/.test(q) && !/COUNT\(amount\)/.test(q))
          .length,
        lastApart,
        "every structured KPI, `last` included, is in the grouped query",
      );
    }
    const days = points["orders"]!.map((p) => p.periodStart);
    assert.ok(days.length >= 2, `${backend} ${span.grain}: ${days}`);
    for (const name of names) {
      const list = points[name]!;
      assert.equal(list.length, days.length);
      for (const point of list) {
        const period: Period = {
          label: `${point.periodStart}..${point.periodEnd}`,
          start: point.periodStart,
          end: point.periodEnd,
          timezone: ZONE,
        };
        const what = `[${backend}] ${name} ${span.grain} ${point.periodStart}`;
        assert.equal(point.partial, false, what);
        assert.equal(point.error, undefined, `${what}: ${point.error}`);
        const single = await engine.runKpi(name, period);
        near(point.value, single.value, what);
        for (const [code, comparison] of Object.entries(single.comparisons)) {
          const got = point.comparisons?.[code as "DoD"];
          assert.ok(got, `${what} has ${code}`);
          near(got.previousValue, comparison.previousValue, `${what} ${code}`);
          assert.equal(got.periodStart, comparison.periodStart);
        }
        const rows = inPeriod(period);
        if (name === "orders") near(point.value, rows.length, what);
        if (name === "revenue") {
          near(
            point.value,
            rows.reduce((s, r) => s + (r.amount ?? 0), 0),
            what,
          );
        }
      }
    }
  }
  // The spring-forward day has 23 hours of rows, the fall-back day 25.
  const { points } = await engine.series("orders", {
    grain: "day",
    from: "2024-03-30",
    to: "2024-04-01",
  });
  const perHour = (p: { value: number | null }) => (p.value ?? 0) * 50 / 60;
  const [sat, sun, mon] = points["orders"]!;
  assert.ok(Math.abs(perHour(sun!) - 23) < 1.2, `23 h: ${perHour(sun!)}`);
  assert.ok(Math.abs(perHour(sat!) - 24) < 1.2);
  assert.ok(Math.abs(perHour(mon!) - 24) < 1.2);
  const fall = await engine.series("orders", {
    grain: "day",
    from: "2024-10-27",
    to: "2024-10-27",
  });
  assert.ok(Math.abs(perHour(fall.points["orders"]![0]!) - 25) < 1.2);
}

function sqlEngine(
  client: SqlClient,
  table: string,
  atInSql = "at",
): KPIEngine {
  return new KPIEngine({
    kpis: kpis(table, atInSql),
    sql: client,
    timezone: ZONE,
    now: () => NOW,
  });
}

function schemaName(): string {
  return `kpi_s_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

Deno.test("[memory] series points equal runKpi across the DST changes of Europe/London", async () => {
  const engine = new KPIEngine({
    kpis: kpis(null),
    dataframes: {
      orders: ROWS.map((r) => ({
        id: r.id,
        at: r.at.toString(),
        amount: r.amount,
        paid: r.paid,
      })),
    },
    timezone: ZONE,
    now: () => NOW,
  });
  await checkEngine("memory", engine);
});

for (const indexed of [false, true]) {
  Deno.test(
    `[sqlite] series points equal runKpi across the DST changes of Europe/London, ${
      indexed
        ? "with an index on the time column (grouped by time first)"
        : "without an index"
    }`,
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "kpi_series_" });
      const path = join(dir, "shop.db");
      const db = new DatabaseSync(path);
      db.exec(
        "CREATE TABLE orders (id INTEGER, at TEXT, amount REAL, paid INTEGER)",
      );
      const insert = db.prepare("INSERT INTO orders VALUES (?, ?, ?, ?)");
      db.exec("BEGIN");
      for (const r of ROWS) {
        insert.run(
          r.id,
          wallClock(r.at),
          r.amount,
          r.paid === null ? null : r.paid ? 1 : 0,
        );
      }
      db.exec("COMMIT");
      if (indexed) db.exec("CREATE INDEX orders_at ON orders (at)");
      db.close();
      const counter = counting(await openSqlClient(`sqlite:${path}`));
      try {
        await checkEngine(
          "sqlite",
          sqlEngine(counter.client, "orders"),
          counter.sent,
        );
        const grouped = counter.sent.filter((q) => /GROUP BY 1/.test(q));
        assert.ok(grouped.length > 0);
        assert.equal(
          grouped.every((q) => /GROUP BY "at"\) AS g/.test(q)),
          indexed,
        );
      } finally {
        await counter.client.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

Deno.test("[postgres] series points equal runKpi across the DST changes of Europe/London", async () => {
  const url = "postgres://postgres@127.0.0.1:5432/test";
  const schema = schemaName();
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  const counter = counting(await openSqlClient(url));
  try {
    await admin.unsafe(
      `CREATE TABLE ${schema}.orders (id INTEGER, at TIMESTAMPTZ, amount NUMERIC(10, 2), paid BOOLEAN)`,
    );
    await admin`INSERT INTO ${admin(schema + ".orders")} ${
      admin(ROWS.map((r) => ({
        id: r.id,
        at: r.at.toString(),
        amount: r.amount,
        paid: r.paid,
      })))
    }`;
    await checkEngine(
      "postgres",
      sqlEngine(counter.client, `${schema}.orders`),
      counter.sent,
    );
  } finally {
    await counter.client.close();
    await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
});

Deno.test("[mariadb] series points equal runKpi across the DST changes of Europe/London", async () => {
  const schema = schemaName();
  const admin = await mysql.createConnection({
    host: "127.0.0.1",
    port: 3306,
    user: "root",
    database: "test",
  });
  await admin.query(`CREATE DATABASE ${schema}`);
  const counter = counting(
    await openSqlClient("mysql://root@127.0.0.1:3306/test"),
  );
  try {
    await admin.query(
      `CREATE TABLE ${schema}.orders (id INTEGER, at DATETIME, amount DECIMAL(10, 2), paid BOOLEAN)`,
    );
    await admin.query(`INSERT INTO ${schema}.orders VALUES ?`, [
      ROWS.map((r) => [
        r.id,
        wallClock(r.at),
        r.amount,
        r.paid === null ? null : r.paid ? 1 : 0,
      ]),
    ]);
    await checkEngine(
      "mariadb",
      sqlEngine(counter.client, `${schema}.orders`),
      counter.sent,
    );
  } finally {
    await counter.client.close();
    await admin.query(`DROP DATABASE ${schema}`);
    await admin.end();
  }
});

Deno.test("[mariadb] without time zone tables, series points on a TIMESTAMP column equal runKpi and the rows across the DST changes of Europe/London", async () => {
  const schema = schemaName();
  const admin = await mysql.createConnection({
    host: "127.0.0.1",
    port: 3306,
    user: "root",
    database: "test",
  });
  await admin.query("SET time_zone = '+00:00'");
  const [zones] = await admin.query({
    sql: "SELECT CONVERT_TZ('2024-11-01 00:00:00', '+00:00', ?)",
    rowsAsArray: true,
  }, [ZONE]);
  assert.equal(
    (zones as unknown[][])[0]?.[0],
    null,
    "this server has no time zone tables",
  );
  await admin.query(`CREATE DATABASE ${schema}`);
  const counter = counting(
    await openSqlClient("mysql://root@127.0.0.1:3306/test"),
  );
  try {
    await admin.query(
      `CREATE TABLE ${schema}.orders (id INTEGER, at TIMESTAMP NULL, amount DECIMAL(10, 2), paid BOOLEAN)`,
    );
    await admin.query(`INSERT INTO ${schema}.orders VALUES ?`, [
      ROWS.map((r) => [
        r.id,
        r.at.toString().slice(0, 19).replace("T", " "),
        r.amount,
        r.paid === null ? null : r.paid ? 1 : 0,
      ]),
    ]);
    const engine = sqlEngine(counter.client, `${schema}.orders`);
    await checkEngine("mariadb TIMESTAMP", engine, counter.sent);
    // The template over the TIMESTAMP column, for months across each change.
    const months: [string, string][] = [
      ["2024-03-01", "2024-04-01"],
      ["2024-10-01", "2024-11-01"],
    ];
    for (const [start, end] of months) {
      const period = { label: start, start, end, timezone: ZONE } as Period;
      const priced = await engine.runKpi("priced", period);
      assert.equal(
        priced.value,
        inPeriod(period).filter((r) => r.amount !== null).length,
        `priced ${start}`,
      );
      const { points } = await engine.series("priced", {
        grain: "month",
        from: start.slice(0, 7),
        to: start.slice(0, 7),
      });
      assert.equal(points["priced"]?.[0]?.value, priced.value);
    }
  } finally {
    await counter.client.close();
    await admin.query(`DROP DATABASE ${schema}`);
    await admin.end();
  }
});

/** Loads the rows into a DuckDB connection, `at` as TIMESTAMPTZ. */
async function loadDuckDB(
  run: (sql: string) => Promise<unknown>,
  table: string,
): Promise<void> {
  await run(
    `CREATE TABLE ${table} (id INTEGER, "at" TIMESTAMPTZ, amount DECIMAL(10, 2), paid BOOLEAN)`,
  );
  const values = ROWS.map((r) =>
    `(${r.id}, '${r.at.toString()}', ${r.amount ?? "NULL"}, ${
      r.paid ?? "NULL"
    })`
  );
  await run(`INSERT INTO ${table} VALUES ${values.join(", ")}`);
}

Deno.test("[duckdb] series points equal runKpi across the DST changes of Europe/London", async () => {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const dir = await Deno.makeTempDir({ prefix: "kpi_series_duckdb_" });
  const path = join(dir, "shop.duckdb");
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  await loadDuckDB((sql) => connection.run(sql), "orders");
  connection.closeSync();
  instance.closeSync();
  const counter = counting(await openSqlClient(`duckdb:${path}`));
  try {
    await checkEngine(
      "duckdb",
      sqlEngine(counter.client, "orders", '"at"'),
      counter.sent,
    );
  } finally {
    await counter.client.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "[clickhouse] series points equal runKpi across the DST changes of Europe/London",
  // The server is a child process that lives as long as the test process.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { startClickHouse } = await import("./_clickhouse_server.ts");
    const server = await startClickHouse();
    const schema = schemaName();
    await server.admin(`CREATE DATABASE ${schema}`);
    const counter = counting(
      await openSqlClient(
        `clickhouse://default@127.0.0.1:${server.port}/default`,
      ),
    );
    try {
      await server.admin(
        `CREATE TABLE ${schema}.orders (id Int32, at DateTime, amount Nullable(Decimal(10, 2)), paid Nullable(Bool)) ENGINE = MergeTree ORDER BY id`,
      );
      const values = ROWS.map((r) =>
        `(${r.id}, toDateTime('${
          r.at.toString().replace("T", " ").replace("Z", "")
        }', 'UTC'), ${r.amount ?? "NULL"}, ${r.paid ?? "NULL"})`
      );
      await server.admin(
        `INSERT INTO ${schema}.orders VALUES ${values.join(", ")}`,
      );
      await checkEngine(
        "clickhouse",
        sqlEngine(counter.client, `${schema}.orders`),
        counter.sent,
      );
    } finally {
      await counter.client.close();
      await server.admin(`DROP DATABASE ${schema}`);
    }
  },
});

Deno.test("[bigquery protocol] series points equal runKpi across the DST changes of Europe/London", async () => {
  const fakes = await import("./_warehouse_fakes.ts");
  const db = await fakes.fakeDatabase();
  const fake = await fakes.startFakeBigQuery(db, "kpi-series");
  await db.connection.run("CREATE SCHEMA shop");
  await loadDuckDB((sql) => db.connection.run(sql), "shop.orders");
  fake.controls.pageSize = 1000;
  const counter = counting(
    await openSqlClient(
      `bigquery://kpi-series?endpoint=${encodeURIComponent(fake.endpoint)}`,
      {
        env: { GOOGLE_APPLICATION_CREDENTIALS_JSON: JSON.stringify(fake.key) },
      },
    ),
  );
  try {
    await checkEngine(
      "bigquery",
      sqlEngine(counter.client, "shop.orders", "`at`"),
      counter.sent,
    );
  } finally {
    await counter.client.close();
    await fake.close();
    db.close();
  }
});

Deno.test("[snowflake protocol] series points equal runKpi across the DST changes of Europe/London", async () => {
  const fakes = await import("./_warehouse_fakes.ts");
  const db = await fakes.fakeDatabase();
  const fake = await fakes.startFakeSnowflake(db, "myorg-series", "kpi");
  await db.connection.run("CREATE SCHEMA shop");
  await loadDuckDB((sql) => db.connection.run(sql), "shop.orders");
  fake.controls.pageSize = 1000;
  const counter = counting(
    await openSqlClient(
      `snowflake://kpi@myorg-series/ANALYTICS?endpoint=${
        encodeURIComponent(fake.endpoint)
      }`,
      { env: { SNOWFLAKE_PRIVATE_KEY: fake.privateKey } },
    ),
  );
  try {
    await checkEngine(
      "snowflake",
      sqlEngine(counter.client, "shop.orders", '"AT"'),
      counter.sent,
    );
  } finally {
    await counter.client.close();
    await fake.close();
    db.close();
  }
});
