/**
 * Series speed: the engine's series against the obvious alternatives, each
 * measured in the same run.
 *
 * 1. PostgreSQL: an `orders` table over three years (built with
 *    `generate_series` in a schema of its own, dropped at the end), 20
 *    structured KPIs, 24 monthly points each with MoM and YoY, without and
 *    with an index on the time column:
 *    - `engine series`: `engine.series()` (queries sent, ms);
 *    - `24 runs`: 24 separate single-period fused runs (480 KPI·periods);
 *    - `hand-written`: one `GROUP BY date_trunc('month', ...)` statement
 *      with `FILTER` clauses (the lower bound).
 * 2. SQLite, the demo database (`.demo/shop.db`, built if missing): its
 *    structured KPIs for two years of daily points, series against 730
 *    single-day runs and a hand-written `GROUP BY order_date`.
 * 3. In memory: rows into 730 daily buckets (one pass) against one
 *    single-period run over the same two years (columnar, time-sorted and
 *    shuffled).
 *
 * ```sh
 * deno run -A bench/series_bench.ts            # 1 M rows in PostgreSQL, 2 M in memory
 * deno run -A bench/series_bench.ts --full     # 10 M rows in both
 * ```
 *
 * Flags: `--full`, `--rows N` (PostgreSQL), `--memory-rows N`, `--repeat`
 * (3), `--url`, `--only memory|sqlite|postgres`. Contenders run in
 * interleaved rounds (the order rotating each round) after a warm-up each;
 * the tables print medians and the spread.
 *
 * @module
 */

import postgres from "postgres";
import { DatabaseSync } from "node:sqlite";
import { KPIEngine } from "../src/engine/kpi_engine.ts";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";
import { ensureDemoDatabase } from "../src/adapters/runtime/demo/build_demo_database.ts";
import type { KPIDefinition, SqlClient } from "../src/types.ts";

function flag(name: string, fallback: string): string {
  const index = Deno.args.indexOf(`--${name}`);
  if (index === -1) return fallback;
  return Deno.args[index + 1] ?? fallback;
}

const full = Deno.args.includes("--full");
const url = flag("url", "postgres://postgres@127.0.0.1:5432/test");
const pgRows = Number(flag("rows", full ? "10000000" : "1000000"));
const memoryRows = Number(flag("memory-rows", full ? "10000000" : "2000000"));
const repeat = Number(flag("repeat", "3"));

interface Row {
  what: string;
  queries: number | string;
  ms: number;
  baseline: number;
  spread?: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/**
 * Runs each contender once to warm up, then `repeat` rounds in which every
 * contender runs once, the order rotating each round; returns the medians
 * and the spreads, by name.
 */
async function interleaved(
  contenders: Record<string, () => Promise<unknown>>,
): Promise<Record<string, { ms: number; min: number; max: number }>> {
  const names = Object.keys(contenders);
  const times: Record<string, number[]> = {};
  for (const name of names) {
    await contenders[name]!();
    times[name] = [];
  }
  for (let round = 0; round < repeat; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length]!;
      const started = performance.now();
      await contenders[name]!();
      times[name]!.push(performance.now() - started);
    }
  }
  return Object.fromEntries(
    names.map((name) => [name, {
      ms: median(times[name]!),
      min: Math.min(...times[name]!),
      max: Math.max(...times[name]!),
    }]),
  );
}

function counted(client: SqlClient): { client: SqlClient; sent: () => number } {
  let n = 0;
  return {
    sent: () => n,
    client: {
      dialect: client.dialect,
      query: (sql, params, options) => {
        n++;
        return client.query(sql, params, options);
      },
      close: () => client.close(),
    },
  };
}

function print(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  console.log(
    `${"".padEnd(34)}${"queries".padStart(9)}${"median ms".padStart(11)}${
      "min–max".padStart(16)
    }${"× baseline".padStart(12)}`,
  );
  for (const row of rows) {
    console.log(
      `${row.what.padEnd(34)}${String(row.queries).padStart(9)}${
        row.ms.toFixed(1).padStart(11)
      }${(row.spread ?? "").padStart(16)}${
        (row.ms / row.baseline).toFixed(2).padStart(12)
      }`,
    );
  }
}

async function checkSame(
  a: KPIEngine,
  names: string[],
  months: string[],
  series: Awaited<ReturnType<KPIEngine["series"]>>,
): Promise<void> {
  for (const [i, month] of months.entries()) {
    if (i % 6 !== 0) continue;
    const results = await a.run(month, { kpis: names, record: false });
    for (const result of results) {
      const point = series.points[result.name]?.[i];
      const v = point?.value ?? null;
      const w = result.value;
      if (
        (v === null) !== (w === null) ||
        (v !== null && w !== null &&
          Math.abs(v - w) > 1e-6 * Math.max(1, Math.abs(w)))
      ) {
        throw new Error(`${result.name} ${month}: series ${v}, run ${w}`);
      }
    }
  }
}

async function postgresPart(): Promise<void> {
  const schema = `kpi_series_bench_${Deno.pid}`;
  const table = `${schema}.orders`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  try {
    const started = performance.now();
    await admin.unsafe(`
      CREATE TABLE ${table} AS
      SELECT i AS id,
        timestamptz '2022-01-01 00:00:00+00' + (i - 1) * (interval '1095 days' / ${pgRows}) AS created_at,
        round(((i * 7919) % 20000) / 100.0, 2)::numeric(10, 2) AS amount,
        1 + (i * 31) % 5 AS quantity,
        (ARRAY['EU', 'US', 'APAC', 'LATAM'])[1 + (i * 13) % 4] AS region,
        (i % 19 = 0) AS refunded
      FROM generate_series(1::bigint, ${pgRows}) AS i`);
    await admin.unsafe(`ANALYZE ${table}`);
    console.log(
      `PostgreSQL: ${pgRows.toLocaleString("en")} rows over 3 years in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
    const regions = ["EU", "US", "APAC", "LATAM"];
    const kpis: KPIDefinition[] = [];
    const add = (
      name: string,
      column: string,
      aggregation: "sum" | "count" | "avg" | "rate",
      filter?: string,
    ) =>
      kpis.push({
        name,
        source: "sql",
        table,
        column,
        aggregation,
        timeColumn: "created_at",
        compare: ["MoM", "YoY"],
        ...(filter ? { filter } : {}),
      });
    add("revenue", "amount", "sum");
    add("orders", "*", "count");
    add("basket", "amount", "avg");
    add("refund_rate", "refunded", "rate");
    add("units", "quantity", "sum");
    add("units_avg", "quantity", "avg");
    add("refunds", "*", "count", "refunded");
    add("refunded_amount", "amount", "sum", "refunded");
    for (const r of regions) {
      add(`revenue_${r}`, "amount", "sum", `region = '${r}'`);
      add(`orders_${r}`, "*", "count", `region = '${r}'`);
      add(`basket_${r}`, "amount", "avg", `region = '${r}'`);
    }
    const names = kpis.map((k) => k.name);
    const client = counted(await openSqlClient(url, { maxConnections: 4 }));
    const engine = new KPIEngine({
      kpis,
      sql: client.client,
      now: () => Temporal.Instant.from("2024-12-31T12:00:00Z"),
    });
    const months = Array.from(
      { length: 24 },
      (_, i) =>
        Temporal.PlainYearMonth.from("2023-01").add({ months: i }).toString(),
    );
    const handWritten = `SELECT date_trunc('month', created_at) AS m, ${
      kpis.map((k) => {
        const where = k.filter ? ` FILTER (WHERE ${k.filter})` : "";
        switch (k.aggregation) {
          case "sum":
            return `SUM(${k.column})${where}`;
          case "count":
            return `COUNT(*)${where}`;
          case "avg":
            return `AVG(${k.column})${where}`;
          default:
            return `AVG(CASE WHEN ${k.column} THEN 1.0 ELSE 0.0 END)${where}`;
        }
      }).join(", ")
    } FROM ${table} WHERE created_at >= '2022-01-01' AND created_at < '2025-01-01' GROUP BY 1`;
    for (const indexed of [false, true]) {
      if (indexed) {
        await admin.unsafe(
          `CREATE INDEX orders_created_at ON ${table} (created_at)`,
        );
        await admin.unsafe(`ANALYZE ${table}`);
      }
      let series = await engine.series(names, {
        grain: "month",
        from: "2023-01",
        to: "2024-12",
      });
      await checkSame(engine, names, months, series);
      const before = client.sent();
      series = await engine.series(names, {
        grain: "month",
        from: "2023-01",
        to: "2024-12",
      });
      const seriesQueries = client.sent() - before;
      const runsBefore = client.sent();
      for (const month of months) {
        await engine.run(month, { kpis: names, record: false });
      }
      const runQueries = client.sent() - runsBefore;
      const m = await interleaved({
        bound: () => client.client.query(handWritten, []),
        series: () =>
          engine.series(names, {
            grain: "month",
            from: "2023-01",
            to: "2024-12",
          }),
        runs: async () => {
          for (const month of months) {
            await engine.run(month, { kpis: names, record: false });
          }
        },
      });
      const bound = m.bound!.ms;
      const seriesMs = m.series!.ms;
      const runsMs = m.runs!.ms;
      const spread = (name: string) =>
        `${m[name]!.min.toFixed(0)}–${m[name]!.max.toFixed(0)}`;
      print(
        `PostgreSQL, ${
          pgRows.toLocaleString("en")
        } rows, 20 KPIs × 24 months with MoM and YoY, ${
          indexed ? "with" : "without"
        } an index on created_at (baseline: hand-written GROUP BY)`,
        [
          {
            what: "hand-written GROUP BY",
            queries: 1,
            ms: bound,
            baseline: bound,
            spread: spread("bound"),
          },
          {
            what: "engine series",
            queries: seriesQueries,
            ms: seriesMs,
            baseline: bound,
            spread: spread("series"),
          },
          {
            what: "24 single-period fused runs",
            queries: runQueries,
            ms: runsMs,
            baseline: bound,
            spread: spread("runs"),
          },
        ],
      );
      console.log(
        `  series vs 24 runs: ${(runsMs / seriesMs).toFixed(1)}× faster`,
      );
    }
    await client.client.close();
  } finally {
    await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

async function sqlitePart(): Promise<void> {
  const path = new URL("../.demo/shop.db", import.meta.url).pathname;
  const today = Temporal.Now.plainDateISO("UTC");
  await ensureDemoDatabase(path, { today });
  const db = new DatabaseSync(path, { readOnly: true });
  const rows = Number(
    (db.prepare("SELECT COUNT(*) AS n FROM orders").get() as { n: number }).n,
  );
  db.close();
  const kpis: KPIDefinition[] = [
    {
      name: "orders",
      source: "sql",
      table: "orders",
      column: "*",
      aggregation: "count",
      timeColumn: "order_date",
    },
    {
      name: "revenue",
      source: "sql",
      table: "orders",
      column: "amount",
      aggregation: "sum",
      timeColumn: "order_date",
      filter: "status = 'completed'",
    },
    {
      name: "basket",
      source: "sql",
      table: "orders",
      column: "amount",
      aggregation: "avg",
      timeColumn: "order_date",
    },
    {
      name: "refunds",
      source: "sql",
      table: "orders",
      column: "*",
      aggregation: "count",
      timeColumn: "order_date",
      filter: "refunded = 1",
    },
  ];
  const names = kpis.map((k) => k.name);
  const client = counted(await openSqlClient(`sqlite:${path}`));
  const engine = new KPIEngine({
    kpis,
    sql: client.client,
    now: () => today.add({ days: 1 }).toZonedDateTime("UTC").toInstant(),
  });
  const from = today.subtract({ days: 729 }).toString();
  const to = today.toString();
  const days = Array.from(
    { length: 730 },
    (_, i) => today.subtract({ days: 729 - i }).toString(),
  );
  const before = client.sent();
  await engine.series(names, { grain: "day", from, to, comparisons: false });
  const seriesQueries = client.sent() - before;
  const hand =
    `SELECT order_date, COUNT(*), SUM(CASE WHEN status = 'completed' THEN amount END), AVG(amount), COUNT(CASE WHEN refunded = 1 THEN 1 END) FROM orders WHERE order_date >= ? AND order_date < ? GROUP BY order_date`;
  const m = await interleaved({
    bound: () =>
      client.client.query(hand, [from, today.add({ days: 1 }).toString()]),
    series: () =>
      engine.series(names, { grain: "day", from, to, comparisons: false }),
    runs: async () => {
      for (const day of days) {
        await engine.run(day, { kpis: names, record: false });
      }
    },
  });
  const bound = m.bound!.ms;
  const seriesMs = m.series!.ms;
  const runsMs = m.runs!.ms;
  const spread = (name: string) =>
    `${m[name]!.min.toFixed(0)}–${m[name]!.max.toFixed(0)}`;
  print(
    `SQLite demo database (${
      rows.toLocaleString("en")
    } orders), 4 KPIs × 730 daily points (baseline: hand-written GROUP BY order_date)`,
    [
      {
        what: "hand-written GROUP BY",
        queries: 1,
        ms: bound,
        baseline: bound,
        spread: spread("bound"),
      },
      {
        what: "engine series",
        queries: seriesQueries,
        ms: seriesMs,
        baseline: bound,
        spread: spread("series"),
      },
      {
        what: "730 single-period runs",
        queries: 730,
        ms: runsMs,
        baseline: bound,
        spread: spread("runs"),
      },
    ],
  );
  await client.client.close();
}

async function memoryPart(): Promise<void> {
  const start = Date.parse("2023-01-01T00:00:00Z");
  const span = 730 * 86_400_000;
  const sorted = new Float64Array(memoryRows);
  const amount = new Float64Array(memoryRows);
  for (let i = 0; i < memoryRows; i++) {
    sorted[i] = start + Math.floor(i * span / memoryRows);
    amount[i] = ((i * 7919) % 20000) / 100;
  }
  const shuffled = Float64Array.from(sorted);
  for (let i = memoryRows - 1; i > 0; i--) {
    const j = (i * 2654435761) % (i + 1);
    const t = shuffled[i] as number;
    shuffled[i] = shuffled[j] as number;
    shuffled[j] = t;
  }
  const rows: Row[] = [];
  for (
    const [label, times] of [["time-sorted", sorted], [
      "shuffled",
      shuffled,
    ]] as const
  ) {
    const engine = new KPIEngine({
      kpis: [{
        name: "revenue",
        source: "dataframe",
        query: "orders.amount",
        aggregation: "sum",
      }],
      dataframes: { orders: { at: times, amount } },
      now: () => Temporal.Instant.from("2025-01-01T12:00:00Z"),
    });
    const m = await interleaved({
      single: () => engine.run("2023-01-01..2024-12-31", { record: false }),
      series: () =>
        engine.series("revenue", {
          grain: "day",
          from: "2023-01-01",
          to: "2024-12-31",
          comparisons: false,
        }),
    });
    const single = m.single!.ms;
    const series = m.series!.ms;
    rows.push(
      {
        what: `${label}: one period (2 years)`,
        queries: "-",
        ms: single,
        baseline: single,
      },
      {
        what: `${label}: 730 daily buckets`,
        queries: "-",
        ms: series,
        baseline: single,
      },
    );
  }
  print(
    `In memory, ${
      memoryRows.toLocaleString("en")
    } rows, columnar (baseline: one single-period run over the same span)`,
    rows,
  );
}

if (import.meta.main) {
  console.log(
    `Load average: ${(await Deno.readTextFile("/proc/loadavg")).trim()}`,
  );
  const only = flag("only", "");
  if (only === "" || only === "memory") await memoryPart();
  if (only === "" || only === "sqlite") await sqlitePart();
  if (only === "" || only === "postgres") await postgresPart();
  console.log(
    `Load average: ${(await Deno.readTextFile("/proc/loadavg")).trim()}`,
  );
}
