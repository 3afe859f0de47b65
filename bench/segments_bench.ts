/**
 * Breakdowns on PostgreSQL: a revenue KPI for a month with its MoM and YoY
 * bases, broken down by region (20 segments) and channel (5), against the
 * same run without dimensions (the baseline: one fused query) and against
 * one query per segment per period (the slow path every breakdown value is
 * checked against); drivers by both dimensions at once too.
 *
 * Builds an `orders` table with `generate_series` in a schema of its own,
 * `kpi_segments_bench_<pid>`, with a B-tree index on the time column, and
 * drops it at the end. Prints queries sent and wall time (medians of
 * `--repeat` interleaved rounds after a warm-up), each as a ratio to the
 * undimensioned run, with the load average before and after.
 *
 * ```sh
 * deno run -A bench/segments_bench.ts            # 1 million rows
 * deno run -A bench/segments_bench.ts --full     # 10 million rows
 * deno run -A bench/segments_bench.ts --rows 3000000 --repeat 5
 * ```
 *
 * Flags: `--url` (default postgres://postgres@127.0.0.1:5432/test),
 * `--rows` (1000000; 10000000 with `--full`), `--repeat` (3).
 *
 * @module
 */

import postgres from "postgres";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";
import { KPIEngine } from "../src/engine/kpi_engine.ts";
import type { KPIDefinition, Period, SqlClient } from "../src/types.ts";

function flag(name: string, fallback: string): string {
  const index = Deno.args.indexOf(`--${name}`);
  if (index === -1) return fallback;
  return Deno.args[index + 1] ?? fallback;
}

const url = flag("url", "postgres://postgres@127.0.0.1:5432/test");
const full = Deno.args.includes("--full");
const rows = Number(flag("rows", full ? "10000000" : "1000000"));
const repeat = Number(flag("repeat", "3"));
const schema = `kpi_segments_bench_${Deno.pid}`;
const table = `${schema}.orders`;

const period: Period = {
  label: "2024-06",
  start: "2024-06-01",
  end: "2024-07-01",
  timezone: "UTC",
};
const bases: Period[] = [
  period,
  { ...period, label: "MoM", start: "2024-05-01", end: "2024-06-01" },
  { ...period, label: "YoY", start: "2023-06-01", end: "2023-07-01" },
];

/** Counts the statements a client sends. */
function counting(
  client: SqlClient,
): { client: SqlClient; sent: () => number } {
  let sent = 0;
  return {
    sent: () => sent,
    client: {
      dialect: client.dialect,
      query(sql, params, options) {
        sent++;
        return client.query(sql, params, options);
      },
      close: () => client.close(),
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const load = async () =>
  (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");

const admin = postgres(url, { max: 1, onnotice: () => {} });
const loadBefore = await load();
try {
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  const built = performance.now();
  await admin.unsafe(`
    CREATE TABLE ${table} AS
    SELECT i AS id,
      timestamptz '2022-01-01 00:00:00+00' + (i - 1) * (interval '1095 days' / ${rows}) AS created_at,
      round(((i * 7919) % 20000) / 100.0, 2)::numeric(10, 2) AS amount,
      'region_' || lpad(((i * 13) % 20)::text, 2, '0') AS region,
      (ARRAY['web', 'ads', 'email', 'store', 'partner'])[1 + (i * 7) % 5] AS channel
    FROM generate_series(1::bigint, ${rows}) AS i`);
  await admin.unsafe(`CREATE INDEX ON ${table} (created_at)`);
  await admin.unsafe(`ANALYZE ${table}`);
  console.log(
    `Built ${rows.toLocaleString("en-US")} rows in ${
      ((performance.now() - built) / 1000).toFixed(1)
    } s`,
  );

  const sql = await openSqlClient(url);
  const counter = counting(sql);
  const base: KPIDefinition = {
    name: "revenue",
    source: "sql",
    table,
    column: "amount",
    aggregation: "sum",
    timeColumn: "created_at",
    compare: ["MoM", "YoY"],
  };
  const plain = new KPIEngine({ kpis: [base], sql: counter.client });
  const segmented = new KPIEngine({
    kpis: [{ ...base, dimensions: ["region", "channel"] }],
    sql: counter.client,
  });

  const regions = Array.from(
    { length: 20 },
    (_, i) => `region_${String(i).padStart(2, "0")}`,
  );
  const channels = ["web", "ads", "email", "store", "partner"];
  const perSegment = async (): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for (const range of bases) {
      for (
        const [dimension, values] of [["region", regions], [
          "channel",
          channels,
        ]] as const
      ) {
        for (const value of values) {
          const [row] = await counter.client.query(
            `SELECT COALESCE(SUM(amount), 0) FROM ${table} WHERE created_at >= $1 AND created_at < $2 AND ${dimension} = $3`,
            [range.start, range.end, value],
          );
          out.set(`${range.start}|${dimension}=${value}`, Number(row?.[0]));
        }
      }
    }
    return out;
  };

  const runs: Record<string, () => Promise<unknown>> = {
    "no dimensions (baseline)": () => plain.run(period),
    "breakdown by region and channel": () =>
      segmented.breakdowns(period, {
        by: ["region", "channel"],
        top: 25,
      }),
    "drivers by region x channel (MoM)": () =>
      segmented.drivers("revenue", period, { compare: "MoM" }),
    "one query per segment per period": perSegment,
  };

  // Correctness: every breakdown value and base equals the slow path's.
  const slow = await perSegment();
  const [breakdown] = await segmented.breakdowns(period, {
    by: ["region", "channel"],
    top: 25,
  });
  let checked = 0;
  for (const dimension of breakdown?.dimensions ?? []) {
    for (const row of dimension.rows) {
      const value = row.segment[dimension.dimension];
      const want = slow.get(`${period.start}|${dimension.dimension}=${value}`);
      if (want === undefined || Math.abs((row.value ?? NaN) - want) > 1e-6) {
        throw new Error(`Mismatch for ${dimension.dimension}=${value}`);
      }
      const yoy = slow.get(`2023-06-01|${dimension.dimension}=${value}`);
      if (Math.abs((row.comparisons.YoY?.previousValue ?? NaN) - yoy!) > 1e-6) {
        throw new Error(`YoY mismatch for ${dimension.dimension}=${value}`);
      }
      checked++;
    }
  }
  console.log(`Checked ${checked} segments against the slow path`);

  const queries = new Map<string, number>();
  const times = new Map<string, number[]>();
  for (const [name, run] of Object.entries(runs)) {
    const before = counter.sent();
    await run(); // warm-up
    queries.set(name, counter.sent() - before);
    times.set(name, []);
  }
  const names = Object.keys(runs);
  for (let round = 0; round < repeat; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length]!;
      const started = performance.now();
      await runs[name]!();
      times.get(name)!.push(performance.now() - started);
    }
  }
  const baseline = median(times.get(names[0]!)!);
  console.log(
    `\nrevenue for ${period.start}..${period.end} with MoM and YoY; ${
      rows.toLocaleString("en-US")
    } rows; medians of ${repeat} rounds\n`,
  );
  const header = ["run", "queries", "ms", "× baseline"];
  const lines = names.map((name) => {
    const ms = median(times.get(name)!);
    return [
      name,
      String(queries.get(name)),
      ms.toFixed(1),
      (ms / baseline).toFixed(2),
    ];
  });
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.map((l) => l[i]!.length))
  );
  for (const line of [header, ...lines]) {
    console.log(
      line.map((cell, i) =>
        i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)
      ).join("  "),
    );
  }
  console.log(`\nload average before: ${loadBefore}; after: ${await load()}`);
  await sql.close();
} finally {
  await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
