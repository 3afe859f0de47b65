import assert from "node:assert/strict";
import {
  counting,
  defineSqlBackendSuite,
  expected,
  NOV_2024,
  PERIODS,
  type SqlFixture,
} from "./_sql_backend_suite.ts";
import {
  type FakeBigQuery,
  fakeDatabase,
  startFakeBigQuery,
} from "./_warehouse_fakes.ts";
import {
  type BigQueryClient,
  openBigQueryClient,
} from "../src/adapters/sql/bigquery/bigquery_client.ts";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";
import { fetchSqlValues } from "../src/sql/fetch_sql_values.ts";
import { valueKey } from "../src/_value_key.ts";
import type { KPIDefinition } from "../src/types.ts";

const PROJECT = "kpi-test-project";

function uniqueName(): string {
  return `kpi_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

async function fixture(
  settings = "",
): Promise<SqlFixture & { fake: FakeBigQuery; bq: BigQueryClient }> {
  const db = await fakeDatabase();
  const fake = await startFakeBigQuery(db, PROJECT);
  const schema = uniqueName();
  await db.connection.run(`CREATE SCHEMA ${schema}`);
  const bq = await openBigQueryClient(
    `bigquery://${PROJECT}?location=EU&endpoint=${
      encodeURIComponent(fake.endpoint)
    }${settings}`,
    { env: { GOOGLE_APPLICATION_CREDENTIALS_JSON: JSON.stringify(fake.key) } },
  );
  return {
    schema,
    fake,
    bq,
    client: bq,
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
      await bq.close();
      await fake.close();
      db.close();
    },
  };
}

defineSqlBackendSuite({
  name: "bigquery protocol",
  dialect: "bigquery",
  types: {
    real: "DECIMAL(10, 2)",
    date: "DATE",
    text: "VARCHAR",
    bool: "BOOLEAN",
    float: "DOUBLE",
    decimal: "DECIMAL(18, 2)",
  },
  timeIndexes: false,
  open: () => fixture(),
});

const revenue = (schema: string): KPIDefinition => ({
  name: "revenue",
  source: "sql",
  table: `${schema}.orders`,
  column: "amount",
  aggregation: "sum",
  timeColumn: "order_date",
});

async function withOrders(
  fx: SqlFixture,
): Promise<void> {
  await fx.exec(
    `CREATE TABLE ${fx.schema}.orders AS SELECT * FROM (VALUES (1, 10.5, DATE '2024-11-02'), (2, 20, DATE '2024-11-20'), (3, 5, DATE '2024-10-03'), (4, 7, DATE '2023-11-09')) AS t(id, amount, order_date)`,
  );
}

Deno.test("[bigquery protocol] the JWT is signed with the key, its claims verified, and the token reused until it expires", async () => {
  const fx = await fixture();
  try {
    await withOrders(fx);
    for (let i = 0; i < 3; i++) {
      const values = await fetchSqlValues(fx.client, [{
        definition: revenue(fx.schema),
        periods: [NOV_2024],
      }]);
      assert.equal(values.get(valueKey("revenue", NOV_2024))?.value, 30.5);
    }
    assert.equal(fx.fake.log.tokens, 1, "one token for three queries");
    const jwt = fx.fake.log.jwts[0];
    assert.equal(jwt?.header["kid"], "key-1");
    assert.equal(jwt?.claims["iss"], fx.fake.key.client_email);
    const query = fx.fake.log.requests.find((r) => r.path.endsWith("/queries"))
      ?.body as Record<string, unknown>;
    assert.equal(query["useLegacySql"], false);
    assert.equal(query["parameterMode"], "NAMED");
    assert.equal(query["location"], "EU");
    assert.deepEqual(query["queryParameters"], [
      {
        name: "p1",
        parameterType: { type: "STRING" },
        parameterValue: { value: "2024-11-01" },
      },
      {
        name: "p2",
        parameterType: { type: "STRING" },
        parameterValue: { value: "2024-12-01" },
      },
    ]);
    assert.match(
      String(query["query"]),
      /FROM `kpi_t_[0-9a-f]+`\.`orders`\nWHERE `order_date` >= @p1 AND `order_date` < @p2/,
    );
    assert.deepEqual(query["connectionProperties"], [{
      key: "time_zone",
      value: "UTC",
    }]);
  } finally {
    await fx.close();
  }
});

Deno.test("[bigquery protocol] a job not complete is polled, and its rows are read page by page", async () => {
  const fx = await fixture();
  try {
    await withOrders(fx);
    fx.fake.controls.delayMs = 300;
    fx.fake.controls.maxWaitMs = 100;
    fx.fake.controls.pageSize = 1;
    const rows = await fx.client.query(
      `SELECT id FROM \`${fx.schema}\`.\`orders\` WHERE id <= @p1 ORDER BY id`,
      [3],
      { timeoutMs: 5000 },
    );
    assert.deepEqual(rows, [[1], [2], [3]]);
    const gets = fx.fake.log.requests.filter((r) => r.method === "GET");
    assert.ok(
      gets.some((r) => !r.path.includes("pageToken")),
      "polled getQueryResults while the job ran",
    );
    assert.equal(
      gets.filter((r) => r.path.includes("pageToken")).length,
      2,
      "two more pages of one row",
    );
    assert.ok(gets.every((r) => r.path.includes("location=EU")));
  } finally {
    await fx.close();
  }
});

Deno.test("[bigquery protocol] a job past its timeout is cancelled", async () => {
  const fx = await fixture();
  try {
    await withOrders(fx);
    fx.fake.controls.delayMs = 10_000;
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
    assert.equal(fx.fake.log.cancelled.length, 1, "the job was cancelled");
    const query = fx.fake.log.requests.find((r) => r.path.endsWith("/queries"))
      ?.body as Record<string, unknown>;
    assert.equal(query["jobTimeoutMs"], "400");
  } finally {
    await fx.close();
  }
});

Deno.test("[bigquery protocol] settings reach the API: time zone, maximum bytes billed, default dataset", async () => {
  const fx = await fixture("&maximum_bytes_billed=1000000");
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
    const query = fx.fake.log.requests.find((r) => r.path.endsWith("/queries"))
      ?.body as Record<string, unknown>;
    assert.equal(query["maximumBytesBilled"], "1000000");
    assert.deepEqual(query["connectionProperties"], [{
      key: "time_zone",
      value: "Europe/Paris",
    }]);
  } finally {
    await fx.close();
  }
});

Deno.test("[bigquery protocol] a dry run reports the bytes a query would process", async () => {
  const fx = await fixture();
  try {
    const estimate = await fx.bq.dryRun("SELECT @p1", ["x"]);
    assert.equal(estimate.totalBytesProcessed, 123_456_789);
    const query = fx.fake.log.requests.find((r) => r.path.endsWith("/queries"))
      ?.body as Record<string, unknown>;
    assert.equal(query["dryRun"], true);
  } finally {
    await fx.close();
  }
});

Deno.test("[bigquery protocol] a key the token endpoint refuses names project and account, never the key", async () => {
  const fx = await fixture();
  const other = await startFakeBigQuery(await fakeDatabase(), PROJECT);
  try {
    // The other fake's key, sent to this fake's token endpoint.
    const client = await openBigQueryClient(
      `bigquery://${PROJECT}?endpoint=${encodeURIComponent(fx.fake.endpoint)}`,
      {
        env: {
          GOOGLE_APPLICATION_CREDENTIALS_JSON: JSON.stringify({
            ...other.key,
            token_uri: fx.fake.key.token_uri,
          }),
        },
      },
    );
    const counter = counting(client);
    const values = await fetchSqlValues(counter.client, [{
      definition: revenue(fx.schema),
      periods: PERIODS,
    }]);
    const error = values.get(valueKey("revenue", NOV_2024))?.error ?? "";
    assert.match(
      error,
      /Cannot connect to BigQuery project "kpi-test-project"/,
    );
    assert.match(
      error,
      /kpi-reader@kpi-test-project\.iam\.gserviceaccount\.com/,
    );
    assert.match(error, /invalid_grant/);
    assert.doesNotMatch(error, /PRIVATE KEY|MII/);
    assert.equal(counter.sent.length, 1, "not retried in pieces");
  } finally {
    await other.close();
    await fx.close();
  }
});

Deno.test("[bigquery protocol] a refused connection names the project, and the URL form is checked", async () => {
  const fx = await fixture();
  try {
    const client = await openSqlClient(
      `bigquery://${PROJECT}/analytics?endpoint=${
        encodeURIComponent("http://127.0.0.1:1")
      }`,
      {
        env: {
          GOOGLE_APPLICATION_CREDENTIALS_JSON: JSON.stringify({
            ...fx.fake.key,
            token_uri: "http://127.0.0.1:1/token",
          }),
        },
      },
    );
    await assert.rejects(
      client.query("SELECT 1", []),
      (error: Error) =>
        error.name === "SqlConnectionError" &&
        /BigQuery project "kpi-test-project"/.test(error.message) &&
        /127\.0\.0\.1:1/.test(error.message),
    );
    await assert.rejects(
      openSqlClient("bigquery://p?colour=blue", { env: {} }),
      /Unknown BigQuery setting "colour"/,
    );
    await assert.rejects(
      openSqlClient("bigquery://p", { env: {} }),
      /No service account key for BigQuery project "p": set key_file=/,
    );
  } finally {
    await fx.close();
  }
});

Deno.test("[bigquery protocol] a statement that is not a SELECT is never sent", async () => {
  const fx = await fixture();
  try {
    await assert.rejects(
      fx.client.query("/* x */ DELETE FROM t WHERE true", []),
      /Only SELECT statements run on BigQuery: .*starts with DELETE/,
    );
    assert.equal(
      fx.fake.log.requests.filter((r) => r.path.endsWith("/queries")).length,
      0,
    );
    assert.equal(expected.count(NOV_2024) > 0, true);
  } finally {
    await fx.close();
  }
});

Deno.test("[bigquery protocol] --explain shows the bytes a dry run of each query would process", async () => {
  const fx = await fixture();
  try {
    const { KPIEngine } = await import("../mod.ts");
    const engine = new KPIEngine({
      kpis: [{ ...revenue(fx.schema), compare: ["MoM", "YoY"] }],
      sql: fx.client,
    });
    const text = await engine.explainWithDryRun("2024-11");
    assert.match(
      text,
      /-- Dry run: 123,456,789 bytes \(123\.5 MB\) would be processed/,
    );
    assert.match(text, /-- Parameters: @p1 = "2024-11-01", @p2 = "2024-12-01"/);
    const dry = fx.fake.log.requests.filter((r) =>
      (r.body as { dryRun?: boolean } | null)?.dryRun === true
    );
    assert.equal(dry.length, 1, "one dry run for the one fused query");
    assert.equal(
      fx.fake.log.requests.filter((r) =>
        (r.body as { dryRun?: boolean } | null)?.dryRun === false
      ).length,
      0,
      "nothing ran",
    );
    // Without a dry run, the same text as explain().
    const plain = new KPIEngine({
      kpis: [{ ...revenue(fx.schema), compare: ["MoM"] }],
      sql: {
        ...fx.client,
        dialect: "bigquery",
        estimateBytes: undefined,
      } as never,
    });
    assert.equal(
      await plain.explainWithDryRun("2024-11"),
      plain.explain("2024-11"),
    );
  } finally {
    await fx.close();
  }
});
