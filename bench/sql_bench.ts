/**
 * SQL plans on PostgreSQL: the engine's fused query against one query per
 * KPI per period, against the other fused layout, and against a hand-written
 * single statement (the bound).
 *
 * Builds an `orders` table with `generate_series` (rows in time order, as
 * an append-only table is) in a schema of its own, `kpi_sql_bench_<pid>`,
 * dropped at the end (with `--reuse`, in `kpi_sql_bench_keep`, kept). Then,
 * without and with a B-tree index on the time column, computes 20
 * structured KPIs (one of them a `last`), each for a month with its MoM and
 * YoY bases:
 *
 * - `separate`: one query per KPI per period (60 queries), the slow path
 *   every other result is checked against;
 * - `engine`: `fetchSqlValues` as it plans by itself (one scan without an
 *   index, range by range with one);
 * - `one scan` / `per range`: the engine forced to either layout;
 * - `hand-written`: one statement with `FILTER` clauses per period and KPI,
 *   `last` included, as a person would write it (the bound);
 *
 * and a template KPI fused versus its three separate queries. Prints wall
 * time (medians of `--repeat` interleaved rounds after a warm-up, the order
 * rotating each round), tuples read (PostgreSQL's per-table counters,
 * `seq_tup_read + idx_tup_fetch`, for one run of each) and each figure as a
 * ratio to its baseline, with the load average before and after.
 *
 * ```sh
 * deno run -A bench/sql_bench.ts                       # 10 million rows
 * deno run -A bench/sql_bench.ts --rows 2000000 --repeat 3
 * deno run -A bench/sql_bench.ts --reuse               # keep the table between runs
 * ```
 *
 * Flags: `--url` (default postgres://postgres@127.0.0.1:5432/test),
 * `--rows` (10000000), `--repeat` (5), `--template-repeat` (9), `--reuse`.
 *
 * @module
 */

import postgres from "postgres";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";
import { fetchSqlValues } from "../src/sql/fetch_sql_values.ts";
import type { SqlValueRequest } from "../src/sql/plan_sql_queries.ts";
import type { KPIDefinition, Period, SqlClient } from "../src/types.ts";
import { TIME_INDEX_MARK } from "../src/sql/_time_index.ts";

function flag(name: string, fallback: string): string {
  const index = Deno.args.indexOf(`--${name}`);
  if (index === -1) return fallback;
  return Deno.args[index + 1] ?? fallback;
}

const url = flag("url", "postgres://postgres@127.0.0.1:5432/test");
const rows = Number(flag("rows", "10000000"));
const repeat = Number(flag("repeat", "5"));
const templateRepeat = Number(flag("template-repeat", "9"));
const reuse = Deno.args.includes("--reuse");
const schema = reuse ? "kpi_sql_bench_keep" : `kpi_sql_bench_${Deno.pid}`;
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

/** The hand-written statement: per period, each KPI as a FILTER aggregate. */
function handWritten(): { sql: string; keys: string[] } {
  const keys: string[] = [];
  const columns: string[] = [];
  PERIODS.forEach((p) => {
    const r = `created_at >= '${p.start}' AND created_at < '${p.end}'`;
    const add = (name: string, aggregate: string) => {
      keys.push(`${name}@${p.start}/${p.end}`);
      columns.push(aggregate);
    };
    const f = (aggregate: string, where = "") =>
      `${aggregate} FILTER (WHERE ${r}${where ? ` AND ${where}` : ""})`;
    add("revenue", `COALESCE(${f("SUM(amount)")}, 0)`);
    add("orders", f("COUNT(*)"));
    add("basket", f("AVG(amount)"));
    add("units", `COALESCE(${f("SUM(quantity)")}, 0)`);
    add("refund_rate", f("AVG(refunded::int)"));
    add("discounts", `COALESCE(${f("SUM(discount)")}, 0)`);
    add("avg_discount", f("AVG(discount)"));
    add(
      "last_amount",
      `(${
        f(
          "MAX(ARRAY[EXTRACT(EPOCH FROM created_at)::float8, amount::float8])",
          "amount IS NOT NULL",
        )
      })[2]`,
    );
    for (const region of ["EU", "US", "APAC", "LATAM"]) {
      const lower = region.toLowerCase();
      add(
        `revenue_${lower}`,
        `COALESCE(${f("SUM(amount)", `region = '${region}'`)}, 0)`,
      );
      add(`orders_${lower}`, f("COUNT(*)", `region = '${region}'`));
    }
    add("paid_revenue", `COALESCE(${f("SUM(amount)", "status = 'paid'")}, 0)`);
    add("failed_orders", f("COUNT(*)", "status = 'failed'"));
    add("big_orders", f("COUNT(*)", "amount >= 150"));
    add("units_per_order", f("AVG(quantity)"));
  });
  const where = PERIODS.map((p) =>
    `(created_at >= '${p.start}' AND created_at < '${p.end}')`
  ).join(" OR ");
  return {
    sql: `SELECT ${columns.join(",\n  ")}\nFROM ${table}\nWHERE ${where}`,
    keys,
  };
}

interface Measure {
  queries: number;
  ms: number;
  values: Map<string, number | null>;
}

type Contender = () => Promise<Measure>;

function counting(
  client: SqlClient,
): { client: SqlClient; sent: () => number } {
  let sent = 0;
  return {
    sent: () => sent,
    client: {
      dialect: client.dialect,
      query(sql, params, options) {
        if (!sql.startsWith(TIME_INDEX_MARK)) sent++;
        return client.query(sql, params, options);
      },
      close: () => client.close(),
    },
  };
}

/** The engine's fetch, optionally with fusion off or a layout forced. */
function engine(
  client: SqlClient,
  requests: SqlValueRequest[],
  options: { fuse?: boolean; indexed?: boolean },
): Contender {
  return async () => {
    const counter = counting(client);
    const started = performance.now();
    const result = await fetchSqlValues(counter.client, requests, {
      fuse: options.fuse ?? true,
      defaultTimeoutMs: 600_000,
      ...(options.indexed === undefined
        ? {}
        : { timeIndexed: () => options.indexed as boolean }),
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
  };
}

/** The hand-written statement, through the same client. */
function bound(client: SqlClient): Contender {
  const { sql, keys } = handWritten();
  return async () => {
    const started = performance.now();
    const [row] = await client.query(sql, [], {
      timeoutMs: 600_000,
      timezone: "UTC",
    });
    const ms = performance.now() - started;
    return {
      queries: 1,
      ms,
      values: new Map(
        keys.map((key, i) => [key, row?.[i] == null ? null : Number(row[i])]),
      ),
    };
  };
}

/** Rows the table has given out so far, by PostgreSQL's counters. */
async function tuplesRead(): Promise<number> {
  const [row] = await admin.unsafe(
    `SELECT COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0) AS n
     FROM pg_stat_user_tables WHERE schemaname = '${schema}' AND relname = 'orders_${rows}'`,
  );
  return Number(row?.n ?? 0);
}

/**
 * Tuples one run reads: on a client of its own, closed before the counters
 * are read (a server process flushes its counters when it exits).
 */
async function tuplesOf(
  make: (client: SqlClient) => Contender,
): Promise<number> {
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
  const before = await tuplesRead();
  const own = await openSqlClient(url, { maxConnections: 4 });
  try {
    await make(own)();
  } finally {
    await own.close();
  }
  await settle();
  return (await tuplesRead()) - before;
}

const median = (list: number[]) =>
  [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;

/**
 * Every contender once to warm up, then `runs` rounds, each running them
 * all in an order rotated by one per round, so that load from elsewhere
 * falls on all alike; the medians are kept, with the spread (min–max).
 */
async function measure(
  contenders: Record<string, Contender>,
  runs: number,
): Promise<Map<string, Measure & { spread: string }>> {
  const names = Object.keys(contenders);
  const last = new Map<string, Measure>();
  for (const name of names) last.set(name, await contenders[name]!());
  const times = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let round = 0; round < runs; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length]!;
      const m = await contenders[name]!();
      times.get(name)!.push(m.ms);
      last.set(name, m);
    }
  }
  return new Map(names.map((name) => {
    const list = times.get(name)!;
    return [name, {
      ...last.get(name)!,
      ms: median(list),
      spread: `${Math.min(...list).toFixed(0)}–${Math.max(...list).toFixed(0)}`,
    }];
  }));
}

function sameValues(
  a: Map<string, number | null>,
  b: Map<string, number | null>,
): boolean {
  for (const [key, value] of b) {
    const other = a.get(key);
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
  workload: string,
  results: Map<string, Measure & { spread: string }>,
  tuples: Map<string, number>,
  baselines: Record<string, string>,
) {
  const slow = results.get("separate");
  if (!slow) throw new Error("no separate run");
  for (const [name, m] of results) {
    if (!sameValues(slow.values, m.values)) {
      throw new Error(`${workload} (${index}): ${name} differs from separate`);
    }
    const base = baselines[name];
    const ratio = base === undefined
      ? ""
      : `${(m.ms / results.get(base)!.ms).toFixed(2)}× ${base}`;
    lines.push([
      index,
      workload,
      name,
      String(m.queries),
      m.ms.toFixed(0),
      m.spread,
      tuples.has(name) ? tuples.get(name)!.toLocaleString("en") : "",
      ratio,
    ]);
  }
}

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(
      " ",
    );
  } catch {
    return "unknown";
  }
}

/** Builds the table, runs every measurement and prints the table. */
async function main(): Promise<void> {
  admin = postgres(url, { max: 1, onnotice: () => {} });
  const loadBefore = loadAverage();
  await prepare();
  const dropSchema = async () => {
    if (reuse) {
      await admin.unsafe(`DROP INDEX IF EXISTS ${schema}.orders_${rows}_at`);
    } else {
      await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  };
  const onSignal = () => {
    dropSchema().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
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
      // A new client per index state: the catalogue lookup is per client.
      const fresh = await openSqlClient(url, { maxConnections: 4 });
      try {
        const makers: Record<string, (c: SqlClient) => Contender> = {
          separate: (c) => engine(c, KPIS, { fuse: false }),
          engine: (c) => engine(c, KPIS, {}),
          "one scan": (c) => engine(c, KPIS, { indexed: false }),
          "per range": (c) => engine(c, KPIS, { indexed: true }),
          "hand-written": (c) => bound(c),
        };
        const contenders = Object.fromEntries(
          Object.entries(makers).map(([name, make]) => [name, make(fresh)]),
        );
        const results = await measure(contenders, repeat);
        const template = await measure({
          separate: engine(fresh, TEMPLATE, { fuse: false }),
          engine: engine(fresh, TEMPLATE, {}),
        }, templateRepeat);
        // Idle server processes flush their counters late: close first.
        await fresh.close();
        const tuples = new Map<string, number>();
        for (const [name, make] of Object.entries(makers)) {
          tuples.set(name, await tuplesOf(make));
        }
        // The goals: without an index, near the hand-written statement;
        // with one, no slower than reading range by range (the plan before
        // the one-scan layout).
        report(index, "20 structured KPIs × 3 periods", results, tuples, {
          engine: index === "none" ? "hand-written" : "per range",
          "one scan": "hand-written",
          "per range": "hand-written",
          "hand-written": "separate",
        });
        report(index, "1 template KPI × 3 periods", template, new Map(), {
          engine: "separate",
        });
      } finally {
        await fresh.close();
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    await dropSchema();
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
    "plan",
    "queries",
    "median ms",
    "min–max ms",
    "tuples read",
    "ratio",
  ];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.map((line) => (line[i] as string).length))
  );
  const row = (cells: string[]) =>
    `| ${
      cells.map((c, i) => i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))
        .join(" | ")
    } |`;
  console.log(
    `\nPostgreSQL ${version?.server_version}, ${
      rows.toLocaleString("en")
    } rows, medians of ${repeat} interleaved rounds (template: ${templateRepeat}) after a warm-up, maxConcurrency 4; ` +
      `load average ${loadBefore} before, ${loadAverage()} after\n`,
  );
  console.log(row(header));
  console.log(
    `|${
      widths.map((w, i) =>
        i < 3 ? `${"-".repeat(w + 1)}-` : `${"-".repeat(w + 1)}:`
      ).join("|")
    }|`,
  );
  for (const line of lines) console.log(row(line));
}

if (import.meta.main) await main();
