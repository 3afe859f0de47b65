/**
 * Warehouses: 20 structured KPIs, each for November 2024 with its MoM and
 * YoY bases, computed three ways on the same data in one run: the fused
 * query (one per table), one query per KPI per period (60), and the
 * in-memory engine (`source: dataframe`) on the same rows held in typed
 * arrays. On DuckDB (a database file) and on ClickHouse (the real server
 * the tests use, from the npm package chdb, over HTTP).
 *
 * ```sh
 * deno run -A bench/warehouse_bench.ts                    # 1 million rows
 * deno run -A bench/warehouse_bench.ts --rows 10000000    # the full size
 * deno run -A bench/warehouse_bench.ts --skip-clickhouse
 * ```
 *
 * Flags: `--rows` (1000000), `--clickhouse-rows` (as `--rows`), `--repeat`
 * (1: rounds after a warm-up, each running every way once in turn; the
 * median is kept), `--skip-clickhouse`.
 * The load average is printed before and after: the figures mean little on
 * a busy machine.
 * The data is the same formula of the row number everywhere, and the bench
 * fails if the three ways disagree on any value.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";
import { fetchSqlValues } from "../src/sql/fetch_sql_values.ts";
import type { SqlValueRequest } from "../src/sql/plan_sql_queries.ts";
import { fetchDataFrameValues } from "../src/dataframe/fetch_dataframe_values.ts";
import type {
  Aggregation,
  DataFrameInput,
  KPIDefinition,
  Period,
  SqlClient,
} from "../src/types.ts";
import { startClickHouse } from "../tests/_clickhouse_server.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    rows: { type: "string", default: "1000000" },
    "clickhouse-rows": { type: "string" },
    repeat: { type: "string", default: "1" },
    "skip-clickhouse": { type: "boolean", default: false },
  },
});
const ROWS = Number(flags.rows);
const CH_ROWS = Number(flags["clickhouse-rows"] ?? flags.rows);
const REPEAT = Number(flags.repeat);
const SPAN_SECONDS = 1095 * 86_400; // 2022-01-01 to 2024-12-31
const FIRST_MS = Date.UTC(2022, 0, 1);

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

/** Numeric columns: name and the formula of row i, as SQL and as JavaScript. */
const MONEY: [string, number, number][] = [
  ["amount", 7919, 20000],
  ["discount", 37, 1500],
  ["tax", 53, 900],
  ["shipping", 11, 2500],
  ["cost", 97, 15000],
  ["margin", 29, 5000],
];

const KPI_COLUMNS: [string, Aggregation][] = [
  ...MONEY.flatMap(([c]) =>
    [[c, "sum"], [c, "avg"]] as [string, Aggregation][]
  ),
  ["quantity", "sum"],
  ["quantity", "avg"],
  ["amount", "count"],
  ["quantity", "count"],
  ["refunded", "rate"],
  ["returned", "rate"],
  ["amount", "last"],
  ["quantity", "last"],
];

function sqlRequests(table: string): SqlValueRequest[] {
  return KPI_COLUMNS.map(([column, aggregation]) => ({
    definition: {
      name: `${aggregation}_${column}`,
      source: "sql",
      table,
      column,
      aggregation,
      timeColumn: "created_at",
    },
    periods: PERIODS,
  }));
}

function dataframeRequests(): {
  definition: KPIDefinition;
  periods: Period[];
}[] {
  return KPI_COLUMNS.map(([column, aggregation]) => ({
    definition: {
      name: `${aggregation}_${column}`,
      source: "dataframe",
      query: `orders.${column}`,
      aggregation,
      timeColumn: "created_at",
    },
    periods: PERIODS,
  }));
}

/** The same rows in typed arrays, by the same formulas. */
function buildColumns(rows: number): DataFrameInput {
  const columns: Record<string, ArrayLike<unknown>> = {};
  const at = new Float64Array(rows);
  const quantity = new Float64Array(rows);
  const refunded: boolean[] = new Array(rows);
  const returned: boolean[] = new Array(rows);
  for (let i = 1; i <= rows; i++) {
    at[i - 1] = FIRST_MS + Math.floor(i * SPAN_SECONDS / rows) * 1000;
    quantity[i - 1] = 1 + (i * 31) % 5;
    refunded[i - 1] = (i * 23) % 20 === 0;
    returned[i - 1] = (i * 19) % 33 === 0;
  }
  columns["created_at"] = at;
  columns["quantity"] = quantity;
  columns["refunded"] = refunded;
  columns["returned"] = returned;
  for (const [name, k, m] of MONEY) {
    const values = new Float64Array(rows);
    for (let i = 1; i <= rows; i++) values[i - 1] = ((i * k) % m) / 100;
    columns[name] = values;
  }
  return columns;
}

interface Measure {
  label: string;
  queries: number | null;
  ms: number;
  values: Map<string, number | null>;
}

function median(samples: number[]): number {
  return [...samples].sort((a, b) =>
    a - b
  )[Math.floor(samples.length / 2)] as number;
}

type Run = () => Promise<
  { values: Map<string, number | null>; queries: number | null }
>;

/**
 * Times each way: a warm-up each, then `REPEAT` rounds running every way
 * once in turn (interleaved, so that a change in the machine's load falls on
 * all of them alike); the median of each is kept.
 */
async function timed(ways: [label: string, run: Run][]): Promise<Measure[]> {
  const samples = ways.map((): number[] => []);
  const last: (Awaited<ReturnType<Run>> | null)[] = ways.map(() => null);
  for (const [, run] of ways) await run(); // warm-up
  for (let i = 0; i < REPEAT; i++) {
    for (const [index, [, run]] of ways.entries()) {
      const started = performance.now();
      last[index] = await run();
      samples[index]!.push(performance.now() - started);
    }
  }
  return ways.map(([label], index) => ({
    label,
    ms: median(samples[index]!),
    ...(last[index] as NonNullable<(typeof last)[number]>),
  }));
}

async function viaSql(
  client: SqlClient,
  requests: SqlValueRequest[],
  fuse: boolean,
) {
  let queries = 0;
  const counted: SqlClient = {
    dialect: client.dialect,
    query(sql, params, options) {
      queries++;
      return client.query(sql, params, options);
    },
    close: () => client.close(),
  };
  const result = await fetchSqlValues(counted, requests, {
    fuse,
    defaultTimeoutMs: 600_000,
  });
  const values = new Map<string, number | null>();
  for (const [key, value] of result) {
    if (value.error !== null) throw new Error(`${key}: ${value.error}`);
    values.set(key, value.value);
  }
  return { values, queries };
}

function viaMemory(table: DataFrameInput) {
  const requests = dataframeRequests();
  return () => {
    const result = fetchDataFrameValues({ orders: table }, requests);
    const values = new Map<string, number | null>();
    for (const [key, value] of result) {
      if (value.error !== null) throw new Error(`${key}: ${value.error}`);
      values.set(key, value.value);
    }
    return Promise.resolve({ values, queries: null });
  };
}

function check(measures: Measure[]): void {
  const [first, ...rest] = measures as [Measure, ...Measure[]];
  for (const other of rest) {
    for (const [key, value] of first.values) {
      const got = other.values.get(key);
      const same = value === null || got === null || got === undefined
        ? value === got
        : Math.abs(value - got) <= 1e-9 * Math.max(1, Math.abs(value));
      if (!same) {
        throw new Error(
          `${other.label} and ${first.label} differ on ${key}: ${got} vs ${value}`,
        );
      }
    }
  }
}

const lines: string[][] = [];
function report(engine: string, rows: number, measures: Measure[]): void {
  check(measures);
  const fused = measures[0] as Measure;
  for (const m of measures) {
    lines.push([
      engine,
      rows.toLocaleString("en"),
      m.label,
      m.queries === null ? "—" : String(m.queries),
      m.ms < 10 ? m.ms.toFixed(1) : m.ms.toFixed(0),
      m.ms >= fused.ms
        ? `${(m.ms / fused.ms).toFixed(1)}× slower`
        : `${(fused.ms / m.ms).toFixed(0)}× faster`,
    ]);
  }
}

async function duckdb(memory: DataFrameInput): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "kpi_warehouse_bench_" });
  const path = join(dir, "orders.duckdb");
  try {
    const started = performance.now();
    const instance = await DuckDBInstance.create(path);
    const c = await instance.connect();
    await c.run(`CREATE TABLE orders AS SELECT
        TIMESTAMP '2022-01-01 00:00:00' + to_seconds(i * ${SPAN_SECONDS} // ${ROWS}) AS created_at,
        ${
      MONEY.map(([name, k, m]) =>
        `CAST(((i * ${k}) % ${m}) / 100 AS DECIMAL(10, 2)) AS ${name}`
      ).join(",\n        ")
    },
        1 + (i * 31) % 5 AS quantity,
        (i * 23) % 20 = 0 AS refunded,
        (i * 19) % 33 = 0 AS returned
      FROM range(1, ${ROWS + 1}) AS t(i)`);
    await c.run("CHECKPOINT");
    c.closeSync();
    instance.closeSync();
    const size = (await Deno.stat(path)).size;
    console.error(
      `DuckDB: ${ROWS.toLocaleString("en")} rows written to a ${
        (size / 1e6).toFixed(0)
      } MB file in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const client = await openSqlClient(`duckdb:${path}`);
    try {
      const requests = sqlRequests("orders");
      const measures = await timed([
        ["fused (1 query per table)", () => viaSql(client, requests, true)],
        [
          "separate (1 per KPI per period)",
          () => viaSql(client, requests, false),
        ],
        ["in-memory engine", viaMemory(memory)],
      ]);
      report("DuckDB 1.5 (file)", ROWS, measures);
    } finally {
      await client.close();
    }
    return `DuckDB file ${(size / 1e6).toFixed(0)} MB`;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function clickhouse(memory: DataFrameInput): Promise<void> {
  const started = performance.now();
  const server = await startClickHouse();
  const db = `kpi_bench_${crypto.randomUUID().slice(0, 8)}`;
  await server.admin(`CREATE DATABASE ${db}`);
  await server.admin(`CREATE TABLE ${db}.orders (
      created_at DateTime('UTC'),
      ${MONEY.map(([name]) => `${name} Decimal(10, 2)`).join(", ")},
      quantity UInt8, refunded Bool, returned Bool
    ) ENGINE = MergeTree ORDER BY created_at`);
  await server.admin(`INSERT INTO ${db}.orders SELECT
      toDateTime('2022-01-01 00:00:00', 'UTC') + intDiv(number * ${SPAN_SECONDS}, ${CH_ROWS}),
      ${
    MONEY.map(([, k, m]) => `toDecimal64((number * ${k}) % ${m}, 2) / 100`)
      .join(", ")
  },
      1 + (number * 31) % 5, (number * 23) % 20 = 0, (number * 19) % 33 = 0
    FROM numbers(1, ${CH_ROWS})`);
  console.error(
    `ClickHouse: ${CH_ROWS.toLocaleString("en")} rows loaded in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`,
  );
  const client = await openSqlClient(
    `clickhouse://default@127.0.0.1:${server.port}/${db}`,
  );
  try {
    const requests = sqlRequests("orders");
    const ways: [string, Run][] = [
      ["fused (1 query per table)", () => viaSql(client, requests, true)],
      [
        "separate (1 per KPI per period)",
        () => viaSql(client, requests, false),
      ],
    ];
    if (CH_ROWS === ROWS) ways.push(["in-memory engine", viaMemory(memory)]);
    const measures = await timed(ways);
    report("ClickHouse 26.7 (HTTP)", CH_ROWS, measures);
  } finally {
    await client.close();
    await server.admin(`DROP DATABASE ${db}`);
  }
}

const load = (): string =>
  Deno.loadavg().map((figure) => figure.toFixed(2)).join(" ");

async function main(): Promise<void> {
  const loadBefore = load();
  console.error(`Building ${ROWS.toLocaleString("en")} rows in memory ...`);
  const memory = buildColumns(ROWS);
  await duckdb(memory);
  if (!flags["skip-clickhouse"]) {
    await clickhouse(CH_ROWS === ROWS ? memory : buildColumns(CH_ROWS));
  }
  const header = ["engine", "rows", "way", "queries", "ms", "vs fused"];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.map((line) => (line[i] as string).length))
  );
  const row = (cells: string[]) =>
    `| ${
      cells.map((c, i) =>
        i === 0 || i === 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)
      )
        .join(" | ")
    } |`;
  console.log(
    `\n20 structured KPIs × (month, MoM, YoY) = 60 values; medians of ${REPEAT} run(s) after a warm-up; ` +
      `SQL at maxConcurrency 4 (the default); ${navigator.hardwareConcurrency} cores; ` +
      `load average ${loadBefore} before, ${load()} after\n`,
  );
  console.log(row(header));
  console.log(
    `|${
      widths.map((w, i) =>
        i === 0 || i === 2 ? `${"-".repeat(w + 2)}` : `${"-".repeat(w + 1)}:`
      ).join("|")
    }|`,
  );
  for (const line of lines) console.log(row(line));
}

if (import.meta.main) await main();
