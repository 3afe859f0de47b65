import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import postgres from "postgres";
import mysql from "mysql2/promise";
import { KPIEngine, parseKpis } from "../mod.ts";
import type { SqlClient } from "../mod.ts";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";
import { formatReport } from "../src/format/mod.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/**
 * Orders of 100 a day from September 1 to November 15, 2024, and a
 * targets table with one row per KPI and month (no row for August, and a
 * row of another KPI that the filter must leave out).
 */
const ORDER_DAYS: string[] = [];
for (
  let d = Temporal.PlainDate.from("2024-08-01");
  Temporal.PlainDate.compare(d, Temporal.PlainDate.from("2024-11-15")) <= 0;
  d = d.add({ days: 1 })
) {
  ORDER_DAYS.push(d.toString());
}
const TARGETS: [string, string, number][] = [
  ["revenue", "2024-09-01", 3000],
  ["revenue", "2024-10-01", 4000],
  ["revenue", "2024-11-01", 4000],
  ["cost", "2024-11-01", 999],
];

interface Backend {
  client: SqlClient;
  /** The connection string. */
  url: string;
  /** The schema-qualified name of a table. */
  table(name: string): string;
  close(): Promise<void>;
}

/** Records every statement and its parameters. */
function recording(
  client: SqlClient,
): { client: SqlClient; sent: { sql: string; params: unknown[] }[] } {
  const sent: { sql: string; params: unknown[] }[] = [];
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
  db.exec(
    "CREATE TABLE orders (day TEXT, amount REAL); CREATE TABLE targets (kpi TEXT, month TEXT, value REAL)",
  );
  const order = db.prepare("INSERT INTO orders VALUES (?, ?)");
  for (const day of ORDER_DAYS) order.run(day, day < "2024-09-01" ? 50 : 100);
  const target = db.prepare("INSERT INTO targets VALUES (?, ?, ?)");
  for (const row of TARGETS) target.run(...row);
  db.close();
  const client = await openSqlClient(`sqlite:${path}`);
  return {
    client,
    url: `sqlite:${path}`,
    table: (name) => name,
    async close() {
      await client.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function uniqueName(): string {
  return `kpi_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

async function postgresBackend(): Promise<Backend> {
  const url = "postgres://postgres@127.0.0.1:5432/test";
  const schema = uniqueName();
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  await admin.unsafe(
    `CREATE TABLE ${schema}.orders (day DATE, amount NUMERIC(10, 2)); CREATE TABLE ${schema}.targets (kpi TEXT, month DATE, value NUMERIC(12, 2))`,
  );
  await admin`INSERT INTO ${admin(schema + ".orders")} ${
    admin(ORDER_DAYS.map((day) => ({
      day,
      amount: day < "2024-09-01" ? 50 : 100,
    })))
  }`;
  await admin`INSERT INTO ${admin(schema + ".targets")} ${
    admin(TARGETS.map(([kpi, month, value]) => ({ kpi, month, value })))
  }`;
  const client = await openSqlClient(url);
  return {
    client,
    url,
    table: (name) => `${schema}.${name}`,
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
  await admin.query(
    `CREATE TABLE ${schema}.targets (kpi VARCHAR(20), month DATE, value DECIMAL(12, 2))`,
  );
  await admin.query(`INSERT INTO ${schema}.orders VALUES ?`, [
    ORDER_DAYS.map((day) => [day, day < "2024-09-01" ? 50 : 100]),
  ]);
  await admin.query(`INSERT INTO ${schema}.targets VALUES ?`, [TARGETS]);
  const url = "mysql://root@127.0.0.1:3306/test";
  const client = await openSqlClient(url);
  return {
    client,
    url,
    table: (name) => `${schema}.${name}`,
    async close() {
      await client.close();
      await admin.query(`DROP DATABASE ${schema}`);
      await admin.end();
    },
  };
}

/** The revenue KPI with its target read by `target` (YAML flow mapping). */
function config(backend: Backend, target: string): string {
  return `
vars:
  kpi_name: revenue
kpis:
  - name: revenue
    source: sql
    table: ${backend.table("orders")}
    column: amount
    aggregation: sum
    time_column: day
    target: ${target}
    alerts:
      - condition: projected < target
        severity: critical
      - condition: attainment < 90%
        severity: warning
`;
}

function engineAt(client: SqlClient, yaml: string, day: string): KPIEngine {
  return new KPIEngine({
    config: parseKpis(yaml),
    sql: client,
    now: () => Temporal.Instant.from(`${day}T12:00:00Z`),
  });
}

const BACKENDS: [string, () => Promise<Backend>][] = [
  ["sqlite", sqlite],
  ["postgres", postgresBackend],
  ["mariadb", mariadb],
];

for (const [name, open] of BACKENDS) {
  Deno.test(`[${name}] a target read from a table: the month's row in a running month, the sum of its months in a quarter, none without a row`, async () => {
    const backend = await open();
    try {
      const yaml = config(
        backend,
        `{ table: ${
          backend.table("targets")
        }, column: value, time_column: month, filter: "kpi = 'revenue'" }`,
      );
      const engine = engineAt(backend.client, yaml, "2024-11-15");
      // November to the 15th: 1,500 against 4,000 for the month, half of
      // it due by now: attainment 1500 / 2000, projected 1500 / 0.5.
      const november = await engine.runKpi("revenue", "this_month");
      assert.equal(november.value, 1500);
      assert.equal(november.target, 4000);
      assert.equal(november.pace?.targetToDate, 2000);
      assert.equal(november.attainment, 0.75);
      assert.equal(november.projected, 3000);
      assert.deepEqual(november.alertsTriggered.map((a) => a.severity), [
        "critical",
        "warning",
      ]);
      // October, closed: 3,100 against 4,000.
      const october = await engine.runKpi("revenue", "2024-10");
      assert.equal(october.target, 4000);
      assert.equal(october.attainment, 3100 / 4000);
      // The third quarter has one target row (September): 3,000; the
      // fourth sums October and November: 8,000.
      assert.equal((await engine.runKpi("revenue", "2024-Q3")).target, 3000);
      assert.equal((await engine.runKpi("revenue", "2024-Q4")).target, 8000);
      // August has no row: no target, a note, no target alert.
      const august = await engine.runKpi("revenue", "2024-08");
      assert.equal(august.value, 31 * 50);
      assert.equal(august.target, undefined);
      assert.match(august.targetNote ?? "", /found no value/);
      assert.equal(august.alertStatus, "ok");
    } finally {
      await backend.close();
    }
  });

  Deno.test(`[${name}] a target read by a template binds the period and vars as parameters`, async () => {
    const backend = await open();
    const recorder = recording(backend.client);
    try {
      const yaml = config(
        backend,
        `{ query: "SELECT value FROM ${
          backend.table("targets")
        } WHERE kpi = {{ kpi_name }} AND month = '{{ period_start }}'" }`,
      );
      const engine = engineAt(recorder.client, yaml, "2024-11-15");
      const november = await engine.runKpi("revenue", "this_month");
      assert.equal(november.target, 4000);
      assert.equal(november.attainment, 0.75);
      assert.equal(november.alertStatus, "critical");
      const read = recorder.sent.filter((s) => s.sql.includes("targets"));
      assert.equal(read.length, 1);
      assert.ok(!read[0]!.sql.includes("revenue"), read[0]!.sql);
      assert.ok(!read[0]!.sql.includes("2024-11-01"), read[0]!.sql);
      assert.deepEqual(
        read[0]!.params.map((p) =>
          p instanceof Date ? p.toISOString().slice(0, 10) : String(p)
        ),
        ["revenue", "2024-11-01"],
      );
      // August has no row: no target.
      const august = await engine.runKpi("revenue", "2024-08");
      assert.equal(august.target, undefined);
      assert.match(august.targetNote ?? "", /found no value/);
    } finally {
      await backend.close();
    }
  });

  Deno.test(`[${name}] explain() lists the target queries of the whole period, their values bound as parameters, sending nothing`, async () => {
    const backend = await open();
    const recorder = recording(backend.client);
    try {
      const table = engineAt(
        recorder.client,
        config(
          backend,
          `{ table: ${
            backend.table("targets")
          }, column: value, time_column: month, filter: "kpi = 'revenue'" }`,
        ),
        "2024-11-15",
      ).explain("this_month");
      const [values, targets] = table.split(
        "-- Targets, read apart from the values for the whole month 2024-11-01..2024-12-01\n",
      );
      assert.ok(targets, table);
      // The value to date, then the month's target and its row count.
      assert.match(values!, /"2024-11-01", \S+ = "2024-11-16"/);
      assert.doesNotMatch(values!, /targets/);
      assert.match(
        targets,
        /^-- Query 1 of 1: structured, table \S*targets\S*; KPIs: revenue:target, revenue:rows; 2 values; periods: 2024-11-01\.\.2024-12-01$/m,
      );
      assert.match(
        targets,
        /-- Parameters: \S+ = "2024-11-01", \S+ = "2024-12-01"/,
      );
      assert.doesNotMatch(targets, /'2024-1/);

      const template = engineAt(
        recorder.client,
        config(
          backend,
          `{ query: "SELECT value FROM ${
            backend.table("targets")
          } WHERE kpi = {{ kpi_name }} AND month = '{{ period_start }}'" }`,
        ),
        "2024-11-15",
      ).explain("this_month");
      const read = template.split("-- Targets, read apart")[1] ?? "";
      assert.match(read, /KPIs: revenue:target; 1 value/);
      assert.match(read, /-- Parameters: \S+ = "revenue", \S+ = "2024-11-01"/);
      assert.doesNotMatch(read, /'2024-11-01'|= 'revenue'/);
      assert.deepEqual(recorder.sent, []);
    } finally {
      await backend.close();
    }
  });

  Deno.test(`[${name}] a backtest reads the targets of every period, from a table or a template, and fires as live runs do`, async () => {
    const backend = await open();
    const recorder = recording(backend.client);
    const forms: [string, string][] = [
      [
        "table",
        `{ table: ${
          backend.table("targets")
        }, column: value, time_column: month, filter: "kpi = 'revenue'" }`,
      ],
      [
        "template",
        `{ query: "SELECT value FROM ${
          backend.table("targets")
        } WHERE kpi = {{ kpi_name }} AND month = '{{ period_start }}'" }`,
      ],
    ];
    try {
      for (const [form, target] of forms) {
        recorder.sent.length = 0;
        const engine = engineAt(
          recorder.client,
          config(backend, target),
          "2024-11-15",
        );
        const report = await engine.backtest({
          from: "2024-08",
          to: "2024-10",
          grain: "month",
        });
        if (form === "table") {
          // One query reads the targets (and their rows) of all months.
          assert.equal(
            recorder.sent.filter((s) => s.sql.includes("targets")).length,
            1,
          );
        }
        // August: no target; September: 3,000 of 3,000; October: 3,100 of
        // 4,000 (77.5%).
        const [projected, attainment] = report.kpis[0]!.rules;
        for (const rule of [projected!, attainment!]) {
          assert.deepEqual(
            rule.events.map((e) => e.period.start),
            ["2024-10-01"],
            `${form}: ${rule.ruleId}`,
          );
        }
        for (const month of ["2024-08", "2024-09", "2024-10"]) {
          const live = await engine.runKpi("revenue", month);
          const point = report.kpis[0]!.points.find((p) =>
            p.periodStart === `${month}-01`
          )!;
          const ids = new Map([
            ["critical", "critical:projected < target"],
            ["warning", "warning:attainment < 90%"],
          ]);
          assert.deepEqual(
            point.holding,
            live.alertsTriggered.map((a) => ids.get(a.severity)),
            `${form} ${month}`,
          );
        }
      }
    } finally {
      await backend.close();
    }
  });
}

Deno.test("[sqlite] a target query that fails leaves the KPI's value and says why", async () => {
  const backend = await sqlite();
  try {
    const engine = engineAt(
      backend.client,
      config(backend, `{ query: "SELECT value FROM no_such_table" }`),
      "2024-11-15",
    );
    const result = await engine.runKpi("revenue", "this_month");
    assert.equal(result.value, 1500);
    assert.equal(result.error, null);
    assert.equal(result.target, undefined);
    assert.match(
      result.targetNote ?? "",
      /^The target query failed: .*no_such_table/,
    );
    assert.equal(result.alertStatus, "ok");
    // The table's and Markdown's notes say so too.
    for (const format of ["table", "markdown"] as const) {
      const text = formatReport({ results: [result] }, format);
      assert.ok(text.includes(result.targetNote!), `${format}:\n${text}`);
    }
  } finally {
    await backend.close();
  }
});

Deno.test("cli.ts run prints a missing target in the notes, and run --explain lists the target query with its parameters", async () => {
  const backend = await sqlite();
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "kpis.yaml");
    await Deno.writeTextFile(
      path,
      `connection: ${backend.url}\n` +
        config(
          backend,
          `{ query: "SELECT value FROM targets WHERE kpi = {{ kpi_name }} AND month = '{{ period_start }}'" }`,
        ),
    );
    const cli = async (...args: string[]): Promise<string> => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, "run", "-c", path, "--no-history", ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr) + text);
      return text;
    };
    // August has no target row: the table's notes say so.
    const august = await cli("-p", "2024-08");
    assert.match(
      august,
      /^revenue +1,550 +ok +The target query found no value for this period$/m,
    );
    const explained = await cli("-p", "2024-08", "--explain");
    const read = explained.split(
      "-- Targets, read apart from the values for the whole month 2024-08-01..2024-09-01\n",
    )[1] ?? "";
    assert.match(read, /WHERE kpi = \? AND month = \?\n\);/);
    assert.match(read, /-- Parameters: 1 = "revenue", 2 = "2024-08-01"/);
  } finally {
    await backend.close();
    await Deno.remove(dir, { recursive: true });
  }
});
