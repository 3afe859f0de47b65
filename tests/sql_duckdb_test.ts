import assert from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  counting,
  defineSqlBackendSuite,
  expected,
  NOV_2024,
  ORDERS,
  PERIODS,
  type SqlFixture,
} from "./_sql_backend_suite.ts";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";
import { openEngine } from "../src/adapters/open_engine.ts";
import { fetchSqlValues } from "../src/sql/fetch_sql_values.ts";
import { valueKey } from "../src/_value_key.ts";
import type { KPIDefinition, SqlClient } from "../src/types.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

function uniqueName(): string {
  return `kpi_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

type Connection = Awaited<ReturnType<DuckDBInstance["connect"]>>;

/** Runs `fn` on a writable handle of the file (opened and closed around it). */
async function withWriter<T>(
  path: string,
  fn: (connection: Connection) => Promise<T>,
): Promise<T> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    return await fn(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * A database file in a temporary folder. The client under test opens it
 * read-only through `duckdb:PATH`; as DuckDB reads a file's catalog when it
 * opens it, the fixture closes that client before each write and the next
 * query opens a fresh one.
 */
async function fixture(): Promise<SqlFixture & { dir: string; path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "kpi_duckdb_" });
  const path = join(dir, "warehouse.duckdb");
  const schema = uniqueName();
  let current: Promise<SqlClient> | null = null;
  const release = async () => {
    const open = current;
    current = null;
    if (open) await (await open).close();
  };
  await withWriter(path, (c) => c.run(`CREATE SCHEMA ${schema}`));
  const client: SqlClient = {
    dialect: "duckdb",
    async query(sql, params, options) {
      current ??= openSqlClient(`duckdb:${path}`);
      return await (await current).query(sql, params, options);
    },
    close: release,
  };
  return {
    schema,
    dir,
    path,
    client,
    async exec(sql, params = []) {
      await release();
      await withWriter(path, async (c) => {
        const prepared = await c.prepare(sql);
        prepared.bind(params as never[]);
        await prepared.run();
      });
    },
    async scalar(sql) {
      await release();
      return await withWriter(path, async (c) => {
        const reader = await c.runAndReadAll(sql);
        return Number(reader.getRows()[0]?.[0]);
      });
    },
    async close() {
      await release();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

defineSqlBackendSuite({
  name: "duckdb",
  dialect: "duckdb",
  types: {
    real: "DECIMAL(10, 2)",
    date: "DATE",
    text: "VARCHAR",
    bool: "BOOLEAN",
    float: "DOUBLE",
    decimal: "DECIMAL(18, 2)",
  },
  timeIndexes: false,
  rangeByRange: true,
  open: fixture,
});

const structured = (
  name: string,
  table: string,
  fields: Partial<KPIDefinition> = {},
): KPIDefinition => ({
  name,
  source: "sql",
  table,
  column: "amount",
  aggregation: "sum",
  timeColumn: "order_date",
  ...fields,
});

Deno.test("[duckdb] Parquet and CSV files are read in place, relative to the file's folder, in one query each", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi_duckdb_files_" });
  try {
    await Deno.mkdir(join(dir, "events"));
    await withWriter(":memory:", async (c) => {
      await c.run(
        "CREATE TABLE orders (id INTEGER, amount DECIMAL(10, 2), order_date DATE, region VARCHAR)",
      );
      const prepared = await c.prepare(
        "INSERT INTO orders VALUES ($1, $2, $3, $4)",
      );
      for (const o of ORDERS) {
        prepared.bind([o.id, o.amount, o.day, o.region]);
        await prepared.run();
      }
      // Two Parquet files, split by id, and one CSV file.
      await c.run(
        `COPY (SELECT * FROM orders WHERE id % 2 = 0) TO '${dir}/events/even.parquet' (FORMAT parquet)`,
      );
      await c.run(
        `COPY (SELECT * FROM orders WHERE id % 2 = 1) TO '${dir}/events/odd.parquet' (FORMAT parquet)`,
      );
      await c.run(
        `COPY orders TO '${dir}/orders.csv' (FORMAT csv, HEADER true)`,
      );
    });
    const client = await openSqlClient("duckdb::memory:", { baseDir: dir });
    const counter = counting(client);
    try {
      const values = await fetchSqlValues(counter.client, [
        {
          definition: structured(
            "revenue",
            "read_parquet('events/*.parquet')",
          ),
          periods: PERIODS,
        },
        {
          definition: structured(
            "eu_orders",
            "read_parquet('events/*.parquet')",
            { column: "*", aggregation: "count", filter: "region = {{ r }}" },
          ),
          periods: PERIODS,
        },
        {
          definition: structured("csv_revenue", "'orders.csv'"),
          periods: PERIODS,
        },
        {
          definition: structured(
            "smuggled",
            "read_parquet('events/*.parquet'); DROP TABLE x",
          ),
          periods: [NOV_2024],
        },
      ], { vars: { r: "EU" } });
      assert.equal(counter.sent.length, 2, counter.sent.join("\n---\n"));
      for (const p of PERIODS) {
        assert.equal(
          values.get(valueKey("revenue", p))?.value,
          expected.sum(p),
        );
        assert.equal(
          values.get(valueKey("csv_revenue", p))?.value,
          expected.sum(p),
        );
        assert.equal(
          values.get(valueKey("eu_orders", p))?.value,
          expected.count(p, (o) => o.region === "EU"),
        );
      }
      assert.match(
        values.get(valueKey("smuggled", NOV_2024))?.error ?? "",
        /Invalid table .*expected a table name .*read_parquet/,
      );
      assert.match(
        counter.sent[0] ?? "",
        /FROM read_parquet\('events\/\*\.parquet'\)/,
      );
    } finally {
      await client.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[duckdb] a timeout interrupts the query well before it would end", async () => {
  const client = await openSqlClient("duckdb::memory:");
  const counter = counting(client);
  try {
    const definition: KPIDefinition = {
      name: "slow",
      source: "sql",
      timeoutMs: 300,
      query:
        "SELECT SUM(hash(i)) FROM range(100000000000) AS t(i) WHERE {{ period_start }} <> ''",
    };
    const started = performance.now();
    const values = await fetchSqlValues(counter.client, [{
      definition,
      periods: PERIODS,
    }]);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 3000, `returned after ${elapsed} ms`);
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
    // The database is free again at once.
    assert.deepEqual(await client.query("SELECT 1 + ?", [1]), [[2]]);
  } finally {
    await client.close();
  }
});

Deno.test("[duckdb] a missing database file is an error naming the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi_duckdb_missing_" });
  try {
    await assert.rejects(
      openSqlClient("duckdb:./nowhere/shop.duckdb", { baseDir: dir }),
      (error: Error) => {
        assert.equal(error.name, "SqlConnectionError");
        assert.match(
          error.message,
          /Cannot open DuckDB file .*nowhere\/shop\.duckdb/,
        );
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[duckdb] the session time zone is the period's, so TIMESTAMPTZ days are cut there", async () => {
  const fx = await fixture();
  try {
    await fx.exec(`CREATE TABLE ${fx.schema}.events (happened_at TIMESTAMPTZ)`);
    await fx.exec(
      `INSERT INTO ${fx.schema}.events VALUES ('2024-10-31T23:30:00Z'), ('2024-11-15T12:00:00Z')`,
    );
    const definition: KPIDefinition = {
      name: "events",
      source: "sql",
      table: `${fx.schema}.events`,
      column: "*",
      aggregation: "count",
      timeColumn: "happened_at",
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

Deno.test("[duckdb] identifiers are quoted, so reserved words work as names", async () => {
  const fx = await fixture();
  try {
    await fx.exec(`CREATE TABLE ${fx.schema}."order" ("key" INT, "date" DATE)`);
    await fx.exec(
      `INSERT INTO ${fx.schema}."order" VALUES (1, '2024-11-02'), (2, '2024-11-03'), (5, '2024-10-03')`,
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

Deno.test("[duckdb] an in-memory database runs only SELECT statements", async () => {
  const client = await openSqlClient("duckdb::memory:");
  try {
    await assert.rejects(
      client.query("CREATE TABLE t (a INT)", []),
      /Only SELECT statements run: .*CREATE statement/,
    );
    await assert.rejects(
      client.query("COPY (SELECT 1) TO '/tmp/kpi_should_not_exist.csv'", []),
      /Only SELECT statements run/,
    );
    await assert.rejects(
      Deno.stat("/tmp/kpi_should_not_exist.csv"),
      Deno.errors.NotFound,
    );
  } finally {
    await client.close();
  }
});

Deno.test("[duckdb] on Deno Deploy the error says DuckDB is not available there", async () => {
  const before = Deno.env.get("DENO_DEPLOYMENT_ID");
  Deno.env.set("DENO_DEPLOYMENT_ID", "test");
  try {
    await assert.rejects(
      openSqlClient("duckdb::memory:"),
      /DuckDB is not available on Deno Deploy: .*native addon/,
    );
  } finally {
    if (before === undefined) Deno.env.delete("DENO_DEPLOYMENT_ID");
    else Deno.env.set("DENO_DEPLOYMENT_ID", before);
  }
});

Deno.test("[duckdb] rate over booleans and every number type agrees with the rate of the same values as text", async () => {
  const fx = await fixture();
  try {
    const table = `${fx.schema}.typed`;
    // Each typed column beside its own text, which takes the text test.
    const types: [string, string][] = [
      ["b", "BOOLEAN"],
      ["ti", "TINYINT"],
      ["i", "INTEGER"],
      ["bi", "BIGINT"],
      ["hi", "HUGEINT"],
      ["ui", "UBIGINT"],
      ["f", "FLOAT"],
      ["d", "DOUBLE"],
      ["dec", "DECIMAL(18, 2)"],
      ["wide", "DECIMAL(38, 10)"],
    ];
    await fx.exec(
      `CREATE TABLE ${table} AS SELECT DATE '2024-11-01' + (i % 28)::INTEGER AS day, ${
        types.map(([name, type]) =>
          `CAST(v AS ${type}) AS ${name}, CAST(CAST(v AS ${type}) AS VARCHAR) AS ${name}_text`
        ).join(", ")
      } FROM (VALUES (0, NULL), (1, 0), (2, 1), (3, 0), (4, 2), (5, NULL), (6, 0), (7, 3)) AS t(i, v)`,
    );
    // Doubles' own zeros and oddities: -0.0, a denormal, NaN, infinity.
    await fx.exec(
      `INSERT INTO ${table} (day, d, d_text, f, f_text, wide, wide_text) SELECT DATE '2024-11-20', x, CAST(x AS VARCHAR), CAST(x AS FLOAT), CAST(CAST(x AS FLOAT) AS VARCHAR), CAST(0.0000000001 AS DECIMAL(38, 10)), '0.0000000001' FROM (VALUES (-0.0::DOUBLE), (4.9e-324::DOUBLE), ('NaN'::DOUBLE), ('-Infinity'::DOUBLE), (-0.0::DOUBLE)) AS t(x)`,
    );
    const requests = types.flatMap(([name]) =>
      [name, `${name}_text`].map((column) => ({
        definition: structured(column, table, {
          column,
          aggregation: "rate",
          timeColumn: "day",
        }),
        periods: [NOV_2024],
      }))
    );
    const values = await fetchSqlValues(fx.client, requests);
    for (const [name] of types) {
      const typed = values.get(valueKey(name, NOV_2024));
      const text = values.get(valueKey(`${name}_text`, NOV_2024));
      assert.equal(typed?.error, null, `${name}: ${typed?.error}`);
      assert.equal(text?.error, null, `${name}_text: ${text?.error}`);
      assert.equal(typeof typed?.value, "number", name);
      assert.equal(typed?.value, text?.value, name);
    }
    // The oddities: 5 more doubles, -0.0 twice falsy, the rest truthy.
    assert.equal(values.get(valueKey("d", NOV_2024))?.value, 6 / 11);
  } finally {
    await fx.close();
  }
});

Deno.test("[duckdb] a KPI file whose tables read Parquet and CSV in place validates and runs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi_duckdb_yaml_" });
  try {
    await Deno.mkdir(join(dir, "events"));
    await withWriter(":memory:", async (c) => {
      await c.run(
        "CREATE TABLE orders (id INTEGER, amount DECIMAL(10, 2), order_date DATE, region VARCHAR)",
      );
      const prepared = await c.prepare(
        "INSERT INTO orders VALUES ($1, $2, $3, $4)",
      );
      for (const o of ORDERS) {
        prepared.bind([o.id, o.amount, o.day, o.region]);
        await prepared.run();
      }
      await c.run(
        `COPY orders TO '${dir}/events/all.parquet' (FORMAT parquet)`,
      );
      await c.run(
        `COPY orders TO '${dir}/orders.csv' (FORMAT csv, HEADER true)`,
      );
    });
    const file = join(dir, "kpis.yaml");
    await Deno.writeTextFile(
      file,
      [
        `connection: "duckdb::memory:"`,
        "kpis:",
        "  - name: revenue",
        "    source: sql",
        "    table: read_parquet('events/*.parquet')",
        "    column: amount",
        "    aggregation: sum",
        "    time_column: order_date",
        "  - name: csv_orders",
        "    source: sql",
        "    table: read_csv('orders.csv')",
        `    column: "*"`,
        "    aggregation: count",
        "    time_column: order_date",
        "",
      ].join("\n"),
    );
    const validate = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "validate", "--config", file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(
      validate.code,
      0,
      new TextDecoder().decode(validate.stderr),
    );
    const engine = await openEngine(file);
    try {
      const [revenue, orders] = await engine.run(NOV_2024, {
        alerts: false,
        record: false,
      });
      assert.equal(revenue?.error, null);
      assert.equal(revenue?.value, expected.sum(NOV_2024));
      assert.equal(orders?.error, null);
      assert.equal(orders?.value, expected.count(NOV_2024));
    } finally {
      await engine.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
