import assert from "node:assert/strict";
import {
  counting,
  defineSqlBackendSuite,
  NOV_2024,
  PERIODS,
  type SqlFixture,
} from "./_sql_backend_suite.ts";
import {
  fakeDatabase,
  type FakeSnowflake,
  startFakeSnowflake,
} from "./_warehouse_fakes.ts";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";
import { fetchSqlValues } from "../src/sql/fetch_sql_values.ts";
import { valueKey } from "../src/_value_key.ts";
import type { KPIDefinition } from "../src/types.ts";

const ACCOUNT = "myorg-kpitest";
const USER = "kpi_reader";

function uniqueName(): string {
  return `kpi_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

async function fixture(): Promise<SqlFixture & { fake: FakeSnowflake }> {
  const db = await fakeDatabase();
  const fake = await startFakeSnowflake(db, ACCOUNT, USER);
  const schema = uniqueName();
  await db.connection.run(`CREATE SCHEMA ${schema}`);
  const client = await openSqlClient(
    `snowflake://${USER}@${ACCOUNT}/ANALYTICS/${schema}?warehouse=REPORTING&role=KPI_READER&endpoint=${
      encodeURIComponent(fake.endpoint)
    }`,
    { env: { SNOWFLAKE_PRIVATE_KEY: fake.privateKey } },
  );
  return {
    schema,
    fake,
    client,
    async exec(sql, params = []) {
      const prepared = await db.connection.prepare(sql);
      prepared.bind(params as never[]);
      await prepared.run();
    },
    async scalar(sql) {
      const reader = await db.connection.runAndReadAll(sql);
      return Number(reader.getRows()[0]?.[0]);
    },
    async close() {
      await client.close();
      await fake.close();
      db.close();
    },
  };
}

defineSqlBackendSuite({
  name: "snowflake protocol",
  dialect: "snowflake",
  types: {
    real: "DECIMAL(10, 2)",
    date: "DATE",
    text: "VARCHAR",
    bool: "BOOLEAN",
    float: "DOUBLE",
    decimal: "DECIMAL(18, 2)",
  },
  timeIndexes: false,
  open: fixture,
});

const revenue = (schema: string): KPIDefinition => ({
  name: "revenue",
  source: "sql",
  table: `${schema}.orders`,
  column: "amount",
  aggregation: "sum",
  timeColumn: "order_date",
});

async function withOrders(fx: SqlFixture): Promise<void> {
  await fx.exec(
    `CREATE TABLE ${fx.schema}.orders AS SELECT * FROM (VALUES (1, 10.5, DATE '2024-11-02'), (2, 20, DATE '2024-11-20'), (3, 5, DATE '2024-10-03'), (4, 7, DATE '2023-11-09')) AS t(id, amount, order_date)`,
  );
}

Deno.test("[snowflake protocol] the key-pair JWT names account, user and the public key's fingerprint, and the request carries the context", async () => {
  const fx = await fixture();
  try {
    await withOrders(fx);
    const values = await fetchSqlValues(fx.client, [{
      definition: { ...revenue(fx.schema), timeoutMs: 5000 },
      periods: [NOV_2024],
    }]);
    assert.equal(values.get(valueKey("revenue", NOV_2024))?.value, 30.5);
    const claims = fx.fake.log.jwts[0]?.claims;
    assert.equal(
      claims?.["iss"],
      `MYORG-KPITEST.KPI_READER.${fx.fake.fingerprint}`,
    );
    assert.equal(claims?.["sub"], "MYORG-KPITEST.KPI_READER");
    const body = fx.fake.log.requests[0]?.body as Record<string, unknown>;
    assert.equal(body["database"], "ANALYTICS");
    assert.equal(body["schema"], fx.schema);
    assert.equal(body["warehouse"], "REPORTING");
    assert.equal(body["role"], "KPI_READER");
    assert.equal(body["timeout"], 5);
    assert.deepEqual(body["bindings"], {
      "1": { type: "TEXT", value: "2024-11-01" },
      "2": { type: "TEXT", value: "2024-12-01" },
    });
    assert.deepEqual(body["parameters"], {
      timezone: "UTC",
      query_tag: "kpi-engine",
    });
    assert.match(
      String(body["statement"]),
      /FROM "KPI_T_[0-9A-F]+"\."ORDERS"\nWHERE "ORDER_DATE" >= \? AND "ORDER_DATE" < \?/,
    );
  } finally {
    await fx.close();
  }
});

Deno.test("[snowflake protocol] a statement still running is polled, and every partition is fetched", async () => {
  const fx = await fixture();
  try {
    await withOrders(fx);
    fx.fake.controls.delayMs = 300;
    fx.fake.controls.maxWaitMs = 50;
    fx.fake.controls.pageSize = 1;
    const rows = await fx.client.query(
      `SELECT id FROM ${fx.schema}.orders WHERE id <= ? ORDER BY id`,
      [3],
      { timeoutMs: 5000 },
    );
    assert.deepEqual(rows, [[1], [2], [3]]);
    const gets = fx.fake.log.requests.filter((r) => r.method === "GET");
    assert.ok(gets.some((r) => !r.path.includes("partition")), "polled");
    assert.deepEqual(
      gets.filter((r) => r.path.includes("partition")).map((r) =>
        new URL(r.path, "http://x").searchParams.get("partition")
      ),
      ["1", "2"],
    );
  } finally {
    await fx.close();
  }
});

Deno.test("[snowflake protocol] a statement past its timeout is cancelled", async () => {
  const fx = await fixture();
  try {
    await withOrders(fx);
    fx.fake.controls.delayMs = 10_000;
    fx.fake.controls.maxWaitMs = 100;
    const started = performance.now();
    const values = await fetchSqlValues(fx.client, [{
      definition: { ...revenue(fx.schema), timeoutMs: 400 },
      periods: PERIODS,
    }]);
    assert.ok(performance.now() - started < 3000);
    for (const p of PERIODS) {
      assert.match(
        values.get(valueKey("revenue", p))?.error ?? "",
        /canceled after 400 ms/,
      );
    }
    assert.equal(fx.fake.log.cancelled.length, 1);
  } finally {
    await fx.close();
  }
});

Deno.test("[snowflake protocol] the period's time zone is the session's TIMEZONE", async () => {
  const fx = await fixture();
  try {
    await fx.exec(`CREATE TABLE ${fx.schema}.events (happened_at TIMESTAMPTZ)`);
    await fx.exec(
      `INSERT INTO ${fx.schema}.events VALUES ('2024-10-31T23:30:00Z'), ('2024-11-15T12:00:00Z')`,
    );
    const paris = { ...NOV_2024, timezone: "Europe/Paris" };
    const values = await fetchSqlValues(fx.client, [{
      definition: {
        name: "events",
        source: "sql",
        table: `${fx.schema}.events`,
        column: "*",
        aggregation: "count",
        timeColumn: "happened_at",
      },
      periods: [paris],
    }]);
    assert.equal(values.get(valueKey("events", paris))?.value, 2);
    const body = fx.fake.log.requests[0]?.body as {
      parameters: Record<string, string>;
    };
    assert.equal(body.parameters["timezone"], "Europe/Paris");
  } finally {
    await fx.close();
  }
});

Deno.test("[snowflake protocol] a key the account does not know names account and user, never the key", async () => {
  const fx = await fixture();
  const other = await startFakeSnowflake(await fakeDatabase(), ACCOUNT, USER);
  try {
    const client = await openSqlClient(
      `snowflake://${USER}@${ACCOUNT}/ANALYTICS?endpoint=${
        encodeURIComponent(fx.fake.endpoint)
      }`,
      { env: { SNOWFLAKE_PRIVATE_KEY: other.privateKey } },
    );
    const counter = counting(client);
    const values = await fetchSqlValues(counter.client, [{
      definition: revenue(fx.schema),
      periods: PERIODS,
    }]);
    const error = values.get(valueKey("revenue", NOV_2024))?.error ?? "";
    assert.match(
      error,
      /Cannot connect to Snowflake account "myorg-kpitest" as user "kpi_reader", database "ANALYTICS": JWT token is invalid/,
    );
    assert.doesNotMatch(error, /PRIVATE KEY|MII/);
    assert.equal(counter.sent.length, 1);
    const refused = await openSqlClient(
      `snowflake://${USER}@${ACCOUNT}?endpoint=${
        encodeURIComponent("http://127.0.0.1:1")
      }`,
      { env: { SNOWFLAKE_PRIVATE_KEY: fx.fake.privateKey } },
    );
    await assert.rejects(
      refused.query("SELECT 1", []),
      (e: Error) =>
        e.name === "SqlConnectionError" && /127\.0\.0\.1:1/.test(e.message) &&
        /myorg-kpitest/.test(e.message),
    );
    await assert.rejects(
      openSqlClient(`snowflake://${USER}@${ACCOUNT}/DB`, { env: {} }),
      /No private key for Snowflake user "kpi_reader": set private_key_file=/,
    );
  } finally {
    await other.close();
    await fx.close();
  }
});

Deno.test("[snowflake protocol] a statement that is not a SELECT is never sent", async () => {
  const fx = await fixture();
  try {
    await assert.rejects(
      fx.client.query("TRUNCATE TABLE t", []),
      /Only SELECT statements run on Snowflake: .*starts with TRUNCATE/,
    );
    assert.equal(fx.fake.log.requests.length, 0);
  } finally {
    await fx.close();
  }
});
