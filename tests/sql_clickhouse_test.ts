import assert from "node:assert/strict";
import {
  counting,
  defineSqlBackendSuite,
  NOV_2024,
  PERIODS,
  type SqlFixture,
} from "./_sql_backend_suite.ts";
import { startClickHouse } from "./_clickhouse_server.ts";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";
import { fetchSqlValues } from "../src/sql/fetch_sql_values.ts";
import { valueKey } from "../src/_value_key.ts";
import type { KPIDefinition } from "../src/types.ts";

// A real ClickHouse (26.7, from the npm package chdb) for this file.
const server = await startClickHouse();
const URL = `clickhouse://default@127.0.0.1:${server.port}/default`;

/** Settings for the fixture's own writes: tables without ENGINE clauses. */
const WRITE = {
  default_table_engine: "MergeTree",
  create_table_empty_primary_key_by_default: "1",
};

function uniqueName(): string {
  return `kpi_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** A literal for the fixture's writes (test data, written by the test). */
function literal(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  return `'${String(value).replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

async function fixture(): Promise<SqlFixture> {
  const schema = uniqueName();
  await server.admin(`CREATE DATABASE ${schema}`);
  const client = await openSqlClient(URL);
  return {
    schema,
    client,
    async exec(sql, params = []) {
      let i = 0;
      await server.admin(sql.replace(/\?/g, () => literal(params[i++])), WRITE);
    },
    async scalar(sql) {
      return Number((await server.admin(`${sql} FORMAT TSV`)).trim());
    },
    async close() {
      await client.close();
      await server.admin(`DROP DATABASE ${schema}`);
    },
  };
}

defineSqlBackendSuite({
  name: "clickhouse",
  dialect: "clickhouse",
  types: {
    real: "Nullable(Decimal(10, 2))",
    date: "Date",
    text: "Nullable(String)",
    bool: "Nullable(Bool)",
    float: "Nullable(Float64)",
    decimal: "Nullable(Decimal(18, 2))",
  },
  timeIndexes: false,
  open: fixture,
});

Deno.test("[clickhouse] a timeout stops the query on the server, well before it would end", async () => {
  const fx = await fixture();
  try {
    const marker = uniqueName();
    const counter = counting(fx.client);
    const definition: KPIDefinition = {
      name: "slow",
      source: "sql",
      timeoutMs: 500,
      query:
        `SELECT sum(s) FROM (SELECT sleepEachRow(0.05) AS s FROM numbers(200) WHERE '${marker}' <> {{ period_start }} SETTINGS max_block_size = 1)`,
    };
    const started = performance.now();
    const values = await fetchSqlValues(counter.client, [{
      definition,
      periods: PERIODS,
    }]);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 5000, `returned after ${elapsed} ms`);
    for (const p of PERIODS) {
      assert.match(
        values.get(valueKey("slow", p))?.error ?? "",
        /canceled after 500 ms/,
      );
    }
    assert.equal(
      counter.sent.length,
      4,
      "a timed-out fused query is re-run once per period, within its budget",
    );
    const running = await fx.scalar(
      `SELECT count() FROM system.processes WHERE query LIKE '%${marker}%' AND query NOT LIKE '%system.processes%'`,
    );
    assert.equal(running, 0);
  } finally {
    await fx.close();
  }
});

Deno.test("[clickhouse] a query whose answer does not come in time is aborted and killed on the server by its query id", async () => {
  const fx = await fixture();
  const marker = uniqueName();
  const kills: { sql: string; id: string | null; status: number }[] = [];
  let queryId: string | null = null;
  // The query itself goes to the real server, but its answer is held back
  // (as a slow network or a server busy elsewhere would): only the client's
  // own timer can end the wait. KILL QUERY requests pass through.
  const slowAnswers: typeof fetch = async (input, init) => {
    const sql = String(init?.body ?? "");
    if (sql.startsWith("KILL QUERY")) {
      const response = await fetch(input, init);
      kills.push({
        sql,
        id: new globalThis.URL(String(input)).searchParams.get("param_id"),
        status: response.status,
      });
      return response;
    }
    queryId = new globalThis.URL(String(input)).searchParams.get("query_id");
    const answer = fetch(input, init);
    answer.catch(() => {}); // aborted with the request
    await new Promise((_, reject) =>
      init?.signal?.addEventListener("abort", () => reject(init.signal?.reason))
    );
    return answer;
  };
  const { openClickHouseClient } = await import(
    "../src/adapters/sql/clickhouse/clickhouse_client.ts"
  );
  const client = openClickHouseClient(URL, { fetch: slowAnswers });
  try {
    const started = performance.now();
    await assert.rejects(
      client.query(
        `SELECT sum(s) FROM (SELECT sleepEachRow(0.1) AS s FROM numbers(80) WHERE '${marker}' <> {p1:String} SETTINGS max_block_size = 1)`,
        ["x"],
        { timeoutMs: 200 },
      ),
      (error: Error) => {
        assert.equal(error.name, "SqlTimeoutError");
        assert.match(error.message, /canceled after 200 ms/);
        assert.match(error.message, /killed on the server/);
        return true;
      },
    );
    assert.ok(performance.now() - started < 5000);
    // Waits for the kill and for the server to drop the query, however
    // slow the machine: the deadlines only end a wait that would never end.
    const deadline = Date.now() + 60_000;
    while (kills.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(kills.length, 1);
    assert.match(kills[0]!.sql, /^KILL QUERY WHERE query_id = \{id:String\}/);
    assert.equal(kills[0]!.id, queryId);
    assert.equal(kills[0]!.status, 200);
    let running = 1;
    while (running > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      running = await fx.scalar(
        `SELECT count() FROM system.processes WHERE query LIKE '%${marker}%' AND query NOT LIKE '%system.processes%'`,
      );
    }
    assert.equal(running, 0, "the query still runs on the server");
  } finally {
    await client.close();
    await fx.close();
  }
});

Deno.test("[clickhouse] a refused connection names host and database, never the password", async () => {
  const client = await openSqlClient(
    "clickhouse://kpi_user:s3cret-Pa55@127.0.0.1:1/kpi_warehouse",
  );
  const counter = counting(client);
  try {
    const values = await fetchSqlValues(counter.client, [{
      definition: {
        name: "x",
        source: "sql",
        query:
          "SELECT dateDiff('day', toDate({{ period_start }}), toDate({{ period_end }}))",
      },
      periods: PERIODS,
    }]);
    const error = values.get(valueKey("x", NOV_2024))?.error ?? "";
    assert.match(error, /Cannot connect to ClickHouse at 127\.0\.0\.1:1/);
    assert.match(error, /kpi_warehouse/);
    assert.match(error, /user "kpi_user"/);
    assert.doesNotMatch(error, /s3cret-Pa55/);
    assert.equal(counter.sent.length, 1);
  } finally {
    await client.close();
  }
});

Deno.test("[clickhouse] a refused login names the user, never the password", async () => {
  const client = await openSqlClient(
    `clickhouse://intruder:s3cret-Pa55@127.0.0.1:${server.port}/default`,
  );
  try {
    await assert.rejects(
      client.query("SELECT 1", []),
      (error: Error) => {
        assert.equal(error.name, "SqlConnectionError");
        assert.match(error.message, /user "intruder"/);
        assert.match(error.message, /Authentication failed/);
        assert.doesNotMatch(error.message, /s3cret-Pa55/);
        return true;
      },
    );
  } finally {
    await client.close();
  }
});

Deno.test("[clickhouse] the session time zone is the period's, so DateTime days are cut there", async () => {
  const fx = await fixture();
  try {
    await fx.exec(`CREATE TABLE ${fx.schema}.events (at DateTime)`);
    // 23:30 UTC on October 31 is 00:30 on November 1 in Paris.
    await fx.exec(
      `INSERT INTO ${fx.schema}.events VALUES (toDateTime('2024-10-31 23:30:00', 'UTC')), (toDateTime('2024-11-15 12:00:00', 'UTC'))`,
    );
    const definition: KPIDefinition = {
      name: "events",
      source: "sql",
      table: `${fx.schema}.events`,
      column: "*",
      aggregation: "count",
      timeColumn: "at",
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

Deno.test("[clickhouse] values travel as typed query parameters, never in the SQL text", async () => {
  const fx = await fixture();
  const seen: { sql: string; url: string }[] = [];
  const spy: typeof fetch = (input, init) => {
    seen.push({ sql: String(init?.body ?? ""), url: String(input) });
    return fetch(input, init);
  };
  const { openClickHouseClient } = await import(
    "../src/adapters/sql/clickhouse/clickhouse_client.ts"
  );
  const client = openClickHouseClient(URL, { fetch: spy });
  try {
    const evil = "x'; DROP DATABASE " + fx.schema + "; --\\\t\n";
    const values = await fetchSqlValues(client, [{
      definition: {
        name: "echo",
        source: "sql",
        query:
          "SELECT length({{ evil }}) + {{ n }} + if({{ flag }}, 1000, 0) + 0 * length({{ period_start }})",
      },
      periods: [NOV_2024],
    }], { vars: { evil, n: 2.5, flag: true } });
    assert.equal(
      values.get(valueKey("echo", NOV_2024))?.value,
      [...new TextEncoder().encode(evil)].length + 2.5 + 1000,
    );
    const sent = seen[0] as { sql: string; url: string };
    assert.match(
      sent.sql,
      /length\(\{p1:String\}\) \+ \{p2:Float64\} \+ if\(\{p3:Bool\}/,
    );
    assert.doesNotMatch(sent.sql, /DROP/);
    const search = new globalThis.URL(sent.url).searchParams;
    assert.equal(search.get("readonly"), "1");
    assert.equal(search.get("param_p3"), "true");
    assert.equal(search.get("session_timezone"), "UTC");
    assert.equal(search.get("max_execution_time"), "30");
    assert.equal(
      await fx.scalar(
        `SELECT count() FROM system.databases WHERE name = '${fx.schema}'`,
      ),
      1,
    );
  } finally {
    await client.close();
    await fx.close();
  }
});
