import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import postgres from "postgres";
import mysql from "mysql2/promise";
import { KPIEngine, parseKpis } from "../mod.ts";
import type { SqlClient } from "../mod.ts";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";

/** Orders of 100 a day (50 on weekends) from August 1 to November 15, 2024. */
const ORDER_ROWS: [string, number][] = [];
for (
  let d = Temporal.PlainDate.from("2024-08-01");
  Temporal.PlainDate.compare(d, Temporal.PlainDate.from("2024-11-15")) <= 0;
  d = d.add({ days: 1 })
) {
  ORDER_ROWS.push([d.toString(), d.dayOfWeek > 5 ? 50 : 100]);
}

interface Backend {
  client: SqlClient;
  /** The schema-qualified name of the orders table. */
  orders: string;
  close(): Promise<void>;
}

interface Sent {
  sql: string;
  params: unknown[];
}

/** Records every statement and its parameters. */
function recording(client: SqlClient): { client: SqlClient; sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    client: {
      dialect: client.dialect,
      query(sql, params, options) {
        sent.push({ sql, params: [...params] });
        return client.query(sql, params, options);
      },
      close: () => client.close(),
    },
  };
}

async function sqlite(): Promise<Backend> {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "shop.db");
  const db = new DatabaseSync(path);
  db.exec("CREATE TABLE orders (day TEXT, amount REAL)");
  const insert = db.prepare("INSERT INTO orders VALUES (?, ?)");
  for (const row of ORDER_ROWS) insert.run(...row);
  db.close();
  const client = await openSqlClient(`sqlite:${path}`);
  return {
    client,
    orders: "orders",
    async close() {
      await client.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function uniqueName(): string {
  return `kpi_x_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

async function postgresBackend(): Promise<Backend> {
  const url = "postgres://postgres@127.0.0.1:5432/test";
  const schema = uniqueName();
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  await admin.unsafe(
    `CREATE TABLE ${schema}.orders (day DATE, amount NUMERIC(10, 2))`,
  );
  await admin`INSERT INTO ${admin(schema + ".orders")} ${
    admin(ORDER_ROWS.map(([day, amount]) => ({ day, amount })))
  }`;
  const client = await openSqlClient(url);
  return {
    client,
    orders: `${schema}.orders`,
    async close() {
      await client.close();
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

async function mariadb(): Promise<Backend> {
  const schema = uniqueName();
  const admin = await mysql.createConnection({
    host: "127.0.0.1",
    port: 3306,
    user: "root",
    database: "test",
  });
  await admin.query(`CREATE DATABASE ${schema}`);
  await admin.query(
    `CREATE TABLE ${schema}.orders (day DATE, amount DECIMAL(10, 2))`,
  );
  await admin.query(`INSERT INTO ${schema}.orders VALUES ?`, [ORDER_ROWS]);
  const client = await openSqlClient("mysql://root@127.0.0.1:3306/test");
  return {
    client,
    orders: `${schema}.orders`,
    async close() {
      await client.close();
      await admin.query(`DROP DATABASE ${schema}`);
      await admin.end();
    },
  };
}

/** Revenue with an anomaly rule; orders with a target paced by weekday. */
function config(orders: string): string {
  return `
kpis:
  - name: revenue
    source: sql
    table: ${orders}
    column: amount
    aggregation: sum
    time_column: day
    anomaly: { direction: drop }
    alerts:
      - condition: anomaly
        severity: warning
  - name: orders
    source: sql
    table: ${orders}
    aggregation: count
    time_column: day
    target: 3000
    pace: { method: weekday }
`;
}

function engineAt(
  client: SqlClient,
  yaml: string,
  fuseQueries = true,
): KPIEngine {
  return new KPIEngine({
    config: parseKpis(yaml),
    sql: client,
    fuseQueries,
    now: () => Temporal.Instant.from("2024-11-15T12:00:00Z"),
  });
}

/** The queries printed in a part of `explain`'s text: the SQL and the parameters line. */
function printed(text: string): { sql: string; params: string }[] {
  const out: { sql: string; params: string }[] = [];
  let lines: string[] | null = null;
  for (const line of text.split("\n")) {
    if (line.startsWith("-- Time zone ")) lines = [];
    else if (lines !== null && line.startsWith("-- Parameters: ")) {
      out.push({ sql: lines.join("\n"), params: line });
      lines = null;
    } else if (lines !== null) lines.push(line);
  }
  return out;
}

/** A statement as `explain` prints it. */
function asPrinted(statement: Sent): { sql: string; params: string } {
  const label = /\$1\b/.test(statement.sql) ? "$" : "";
  return {
    sql: statement.sql.trimEnd() + ";",
    params: statement.params.length === 0
      ? "-- Parameters: none"
      : `-- Parameters: ${
        statement.params.map((value, i) =>
          `${label}${i + 1} = ${JSON.stringify(value)}`
        ).join(", ")
      }`,
  };
}

/** The part of `text` after `heading`, up to the next heading. */
function section(text: string, heading: string): string {
  const at = text.indexOf(heading);
  assert.ok(at >= 0, `no "${heading}" in:\n${text}`);
  const rest = text.slice(at + heading.length);
  const next = rest.search(/\n\n-- (Anomaly|Weekday|Targets)/);
  return next < 0 ? rest : rest.slice(0, next);
}

/** The statements a run sent that read the orders table, as printed. */
function reads(sent: readonly Sent[], orders: string): string[] {
  const table = new RegExp(
    `FROM\\s+[\`"]?${orders.replace(".", '[`"]?\\.[`"]?')}\\b`,
    "i",
  );
  return sent.filter((s) => table.test(s.sql)).map((s) => {
    const p = asPrinted(s);
    return `${p.sql}\n${p.params}`;
  });
}

const BACKENDS: [string, () => Promise<Backend>][] = [
  ["sqlite", sqlite],
  ["postgres", postgresBackend],
  ["mariadb", mariadb],
];

for (const [name, open] of BACKENDS) {
  Deno.test(`[${name}] explain() lists the series of anomaly baselines and weekday pace, as a run sends them, sending nothing`, async () => {
    const backend = await open();
    try {
      const yaml = config(backend.orders);
      const quiet = recording(backend.client);
      const day = engineAt(quiet.client, yaml).explain("2024-11-14");
      const month = engineAt(quiet.client, yaml).explain("this_month");
      const without = engineAt(quiet.client, yaml).explain("2024-11-14", {
        kpis: ["orders"],
      });
      assert.deepEqual(quiet.sent, [], "explain sends nothing");

      // A whole day: revenue's baseline, 56 days before it; no pace (the
      // day is not in progress).
      const baseline = section(
        day,
        "\n-- Anomaly baseline of revenue: 56 daily points before 2024-11-14\n",
      );
      assert.match(baseline, /^-- Query 1 of 1: series, table \S*orders/m);
      assert.match(baseline, /"2024-09-19"/, "the first training day");
      assert.doesNotMatch(baseline, /'2024-/, "days are bound, not inlined");
      assert.doesNotMatch(day, /Weekday pace/);
      assert.doesNotMatch(without, /Anomaly baseline/);

      // The month in progress: no baseline for it, and the weekday pace of
      // orders learned from the 56 days before the month.
      assert.match(
        month,
        /\n-- Anomaly baseline: not learned for this_month: baselines are learned for whole days/,
      );
      const pace = section(
        month,
        "\n-- Weekday pace of orders: 56 daily points before 2024-11-01, which weigh the days of the period in progress\n",
      );
      assert.match(
        pace,
        /^-- Query 1 of 1: series, table \S*orders\S*; KPIs: orders;/m,
      );
      assert.match(pace, /"2024-09-06"/, "the first training day");

      // What is printed is what a run sends, SQL and parameters.
      for (
        const [period, text, part] of [
          ["2024-11-14", day, baseline],
          ["this_month", month, pace],
        ] as const
      ) {
        const run = recording(backend.client);
        await engineAt(run.client, yaml).report(period);
        const sent = reads(run.sent, backend.orders);
        const planned = printed(text).map((q) => `${q.sql}\n${q.params}`);
        assert.deepEqual(sent, planned, `${period}: run and explain differ`);
        const series = printed(part).map((q) => `${q.sql}\n${q.params}`);
        assert.equal(series.length, 1);
        assert.ok(sent.includes(series[0]!));
      }
    } finally {
      await backend.close();
    }
  });
}

Deno.test("[sqlite] explain() without fused queries lists the insight series as the single-period plan a run sends", async () => {
  const backend = await sqlite();
  try {
    const yaml = config(backend.orders);
    const quiet = recording(backend.client);
    const text = engineAt(quiet.client, yaml, false).explain("2024-11-14");
    assert.deepEqual(quiet.sent, []);
    const baseline = section(
      text,
      "\n-- Anomaly baseline of revenue: 56 daily points before 2024-11-14\n",
    );
    assert.equal(printed(baseline).length, 56, "one query per day");
    assert.doesNotMatch(baseline, /series, table/);
    const run = recording(backend.client);
    await engineAt(run.client, yaml, false).report("2024-11-14");
    assert.deepEqual(
      reads(run.sent, backend.orders),
      printed(text).map((q) => `${q.sql}\n${q.params}`),
    );
  } finally {
    await backend.close();
  }
});
