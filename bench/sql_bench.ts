/**
 * Fused versus one-query-per-KPI-per-period SQL, on PostgreSQL.
 *
 * Builds an `orders` table with `generate_series` (rows in time order, as
 * an append-only table is), then computes 20 structured KPIs, each for a
 * month with its MoM and YoY bases, once with one query per KPI per period
 * (60 queries) and once fused, with and without a B-tree index on the time
 * column; and a template KPI fused versus its three separate queries.
 * Prints queries sent and wall time for each: medians of `--repeat` runs
 * after a warm-up, separate and fused alternating.
 *
 * ```sh
 * deno run -A bench/sql_bench.ts                       # 10 million rows
 * deno run -A bench/sql_bench.ts --rows 200000 --repeat 1
 * deno run -A bench/sql_bench.ts --reuse               # keep the table between runs
 * ```
 *
 * Flags: `--url` (default postgres://postgres@127.0.0.1:5432/test),
 * `--rows` (10000000), `--repeat` (3), `--template-repeat` (9), `--reuse`
 * (keep the generated table
 * in schema kpi_bench for the next run instead of dropping it).
 *
 * @module
 */

import postgres from "postgres";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";
import { fetchSqlValues } from "../src/sql/fetch_sql_values.ts";
import type { SqlValueRequest } from "../src/sql/plan_sql_queries.ts";
import type { KPIDefinition, Period, SqlClient } from "../src/types.ts";

function flag(name: string, fallback: string): string {
  const index = Deno.args.indexOf(`--${name}`);
  if (index === -1) return fallback;
  return Deno.args[index + 1] ?? fallback;
}

const url = flag("url", "postgres://postgres@127.0.0.1:5432/test");
const rows = Number(flag("rows", "10000000"));
const repeat = Number(flag("repeat", "3"));
const templateRepeat = Number(flag("template-repeat", "9"));
const reuse = Deno.args.includes("--reuse");
const schema = "kpi_bench";
const table = `${schema}.orders_${rows}`;

let admin: postgres.Sql;

async function prepare(): Promise<void> {
  await admin.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  const [exists] = await admin.unsafe(
    `SELECT to_regclass('${table}') IS NOT NULL AS present`,
  );
  if (exists?.present && reuse) {
    console.log(`Reusing ${table}`);
    await admin.unsafe(`DROP INDEX IF EXISTS ${schema}.orders_${rows}_at`);
    return;
  }
  await admin.unsafe(`DROP TABLE IF EXISTS ${table}`);
  const started = performance.now();
  await admin.unsafe(`
    CREATE TABLE ${table} AS
    SELECT i AS id,
      timestamptz '2022-01-01 00:00:00+00' + (i - 1) * (interval '1095 days' / ${rows}) AS created_at,
      round(((i * 7919) % 20000) / 100.0, 2)::numeric(10, 2) AS amount,
      1 + (i * 31) % 5 AS quantity,
      (ARRAY['EU', 'US', 'APAC', 'LATAM'])[1 + (i * 13) % 4] AS region,
      (ARRAY['paid', 'paid', 'paid', 'pending', 'failed'])[1 + (i * 17) % 5] AS status,
      (i * 23) % 20 = 0 AS refunded,
      round(((i * 37) % 1500) / 100.0, 2)::numeric(10, 2) AS discount,
      (i * 101) % 250000 AS customer_id
    FROM generate_series(1::bigint, ${rows}) AS i`);
  await admin.unsafe(`VACUUM ANALYZE ${table}`);
  console.log(
    `Generated ${rows.toLocaleString("en")} rows in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`,
  );
}

const period = (start: string, end: string): Period => ({
  label: start,
  start,
  end,
  timezone: "UTC",
});
const PERIODS = [
  period("2024-11-01", "2024-12-01"),
  period("2024-10-01", "2024-11-01"),
  period("2023-11-01", "2023-12-01"),
];

function structured(
  name: string,
  fields: Pick<KPIDefinition, "column" | "aggregation"> & { filter?: string },
): SqlValueRequest {
  return {
    definition: {
      name,
      source: "sql",
      table,
      timeColumn: "created_at",
      ...fields,
    },
    periods: PERIODS,
  };
}

const KPIS: SqlValueRequest[] = [
  structured("revenue", { column: "amount", aggregation: "sum" }),
  structured("orders", { column: "*", aggregation: "count" }),
  structured("basket", { column: "amount", aggregation: "avg" }),
  structured("units", { column: "quantity", aggregation: "sum" }),
  structured("refund_rate", { column: "refunded", aggregation: "rate" }),
  structured("discounts", { column: "discount", aggregation: "sum" }),
  structured("avg_discount", { column: "discount", aggregation: "avg" }),
  structured("last_amount", { column: "amount", aggregation: "last" }),
  ...["EU", "US", "APAC", "LATAM"].flatMap((region) => [
    structured(`revenue_${region.toLowerCase()}`, {
      column: "amount",
      aggregation: "sum",
      filter: `region = '${region}'`,
    }),
    structured(`orders_${region.toLowerCase()}`, {
      column: "*",
      aggregation: "count",
      filter: `region = '${region}'`,
    }),
  ]),
  structured("paid_revenue", {
    column: "amount",
    aggregation: "sum",
    filter: "status = 'paid'",
  }),
  structured("failed_orders", {
    column: "*",
    aggregation: "count",
    filter: "status = 'failed'",
  }),
  structured("big_orders", {
    column: "*",
    aggregation: "count",
    filter: "amount >= 150",
  }),
  structured("units_per_order", { column: "quantity", aggregation: "avg" }),
];

const TEMPLATE: SqlValueRequest[] = [{
  definition: {
    name: "template_revenue",
    source: "sql",
    query:
      `SELECT SUM(amount) FROM ${table} WHERE created_at >= '{{ period_start }}' AND created_at < '{{ period_end }}'`,
  },
  periods: PERIODS,
}];

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

interface Measure {
  queries: number;
  ms: number;
  values: Map<string, number | null>;
}

/** Runs the requests once; returns queries sent, wall time and values. */
async function once(
  client: SqlClient,
  requests: SqlValueRequest[],
  fuse: boolean,
): Promise<Measure> {
  const counter = counting(client);
  const started = performance.now();
  const result = await fetchSqlValues(counter.client, requests, {
    fuse,
    defaultTimeoutMs: 600_000,
  });
  const ms = performance.now() - started;
  for (const [key, value] of result) {
    if (value.error !== null) throw new Error(`${key}: ${value.error}`);
  }
  return {
    queries: counter.sent(),
    ms,
    values: new Map([...result].map(([k, v]) => [k, v.value])),
  };
}

/**
 * Separate and fused, each warmed up once, then `runs` times each,
 * alternating which goes first so that load from elsewhere on the machine
 * falls on both alike; the medians are kept.
 */
async function measure(
  client: SqlClient,
  requests: SqlValueRequest[],
  runs: number,
): Promise<[Measure, Measure]> {
  let separate = await once(client, requests, false);
  let fused = await once(client, requests, true);
  const times: [number[], number[]] = [[], []];
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? [false, true] : [true, false];
    for (const fuse of order) {
      const m = await once(client, requests, fuse);
      times[fuse ? 1 : 0].push(m.ms);
      if (fuse) fused = m;
      else separate = m;
    }
  }
  const median = (list: number[]) =>
    list.sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;
  return [
    { ...separate, ms: median(times[0]) },
    { ...fused, ms: median(times[1]) },
  ];
}

function sameValues(
  a: Map<string, number | null>,
  b: Map<string, number | null>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) {
    const other = b.get(key);
    if (value === null || other === null || other === undefined) {
      if (value !== other) return false;
    } else if (Math.abs(value - other) > 1e-9 * Math.max(1, Math.abs(value))) {
      return false;
    }
  }
  return true;
}

const lines: string[][] = [];
function report(
  index: string,
  what: string,
  separate: Measure,
  fused: Measure,
) {
  if (!sameValues(separate.values, fused.values)) {
    throw new Error(`${what} (${index}): fused and separate values differ`);
  }
  lines.push([
    index,
    what,
    String(separate.queries),
    separate.ms.toFixed(0),
    String(fused.queries),
    fused.ms.toFixed(0),
    `${(separate.queries / fused.queries).toFixed(0)}×`,
    `${(separate.ms / fused.ms).toFixed(1)}×`,
  ]);
}

/** Builds the table, runs every measurement and prints the table. */
async function main(): Promise<void> {
  admin = postgres(url, { max: 1, onnotice: () => {} });
  await prepare();
  const client = await openSqlClient(url, { maxConnections: 4 });
  try {
    for (const index of ["none", "btree"]) {
      if (index === "btree") {
        const started = performance.now();
        await admin.unsafe(
          `CREATE INDEX orders_${rows}_at ON ${table} (created_at)`,
        );
        await admin.unsafe(`ANALYZE ${table}`);
        console.log(
          `Indexed created_at in ${
            ((performance.now() - started) / 1000).toFixed(1)
          } s`,
        );
      }
      report(
        index,
        "20 structured KPIs × 3 periods",
        ...await measure(client, KPIS, repeat),
      );
      report(
        index,
        "1 template KPI × 3 periods",
        ...await measure(client, TEMPLATE, templateRepeat),
      );
    }
  } finally {
    await client.close();
    if (reuse) {
      await admin.unsafe(`DROP INDEX IF EXISTS ${schema}.orders_${rows}_at`);
    } else {
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    }
    await admin.end();
  }

  const [version] = await (async () => {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      return await sql.unsafe("SHOW server_version");
    } finally {
      await sql.end();
    }
  })();
  const header = [
    "index",
    "workload",
    "separate queries",
    "separate ms",
    "fused queries",
    "fused ms",
    "fewer queries",
    "faster",
  ];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.map((line) => (line[i] as string).length))
  );
  const row = (cells: string[]) =>
    `| ${
      cells.map((c, i) => i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))
        .join(" | ")
    } |`;
  console.log(
    `\nPostgreSQL ${version?.server_version}, ${
      rows.toLocaleString("en")
    } rows, ` +
      `medians of ${repeat} runs (template: ${templateRepeat}) after a warm-up, ` +
      `separate and fused alternating, maxConcurrency 4 (the default)\n`,
  );
  console.log(row(header));
  console.log(
    `|${
      widths.map((w, i) =>
        i < 2 ? `${"-".repeat(w + 1)}-` : `${"-".repeat(w + 1)}:`
      ).join("|")
    }|`,
  );
  for (const line of lines) console.log(row(line));
}

if (import.meta.main) await main();
