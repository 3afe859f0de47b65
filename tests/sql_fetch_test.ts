import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { fetchSqlValues } from "../src/sql/fetch_sql_values.ts";
import { valueKey } from "../src/_value_key.ts";
import { sqliteClient } from "../src/adapters/sql/sqlite/sqlite_client.ts";
import { openPostgresClient } from "../src/adapters/sql/postgres/postgres_client.ts";
import { counting, period } from "./_sql_backend_suite.ts";
import postgres from "postgres";
import type { KPIDefinition } from "../src/types.ts";

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";

const NOV = period("2024-11-01", "2024-12-01");
const OCT = period("2024-10-01", "2024-11-01");
const NOV23 = period("2023-11-01", "2023-12-01");
const PERIODS = [NOV, OCT, NOV23];

function structured(
  name: string,
  fields: Partial<KPIDefinition> = {},
): KPIDefinition {
  return {
    name,
    source: "sql",
    table: "orders",
    column: "amount",
    aggregation: "sum",
    timeColumn: "created_at",
    ...fields,
  };
}

function shop(): DatabaseSync {
  const db = new DatabaseSync(":memory:");
  db.exec("CREATE TABLE orders (created_at TEXT, amount REAL)");
  db.exec(`INSERT INTO orders VALUES
    ('2024-11-03', 5), ('2024-10-10', 4), ('2023-11-30', 3), ('2024-12-01', 100)`);
  return db;
}

Deno.test("fetchSqlValues() re-runs a failed fused query per KPI on SQLite, and keeps each KPI's own error", async () => {
  const db = shop();
  const { client, sent } = counting(sqliteClient(db));
  try {
    const values = await fetchSqlValues(client, [
      { definition: structured("a"), periods: PERIODS },
      { definition: structured("b", { column: "broken" }), periods: PERIODS },
    ]);
    // The fused query fails on the missing column; each KPI then runs alone.
    assert.equal(sent.length, 3);
    assert.equal(values.get(valueKey("a", NOV))?.value, 5);
    assert.equal(values.get(valueKey("a", OCT))?.value, 4);
    assert.equal(values.get(valueKey("a", NOV23))?.value, 3);
    for (const p of PERIODS) {
      assert.match(values.get(valueKey("b", p))?.error ?? "", /broken/);
      assert.equal(values.get(valueKey("b", p))?.value, null);
    }
  } finally {
    db.close();
  }
});

Deno.test("fetchSqlValues() re-runs a timed-out fused template per period, each canceled at its timeout", async () => {
  const { client, sent } = counting(openPostgresClient(PG_URL));
  try {
    const started = performance.now();
    const values = await fetchSqlValues(client, [
      {
        definition: {
          name: "slow",
          source: "sql",
          query:
            "SELECT COUNT(*) FROM pg_sleep(5) WHERE {{ period_start }}::date < {{ period_end }}::date",
          timeoutMs: 300,
        },
        periods: PERIODS,
      },
    ]);
    assert.ok(performance.now() - started < 4500, "canceled before 5 s");
    assert.equal(sent.length, 4, "the fused query, then one per period");
    for (const p of PERIODS) {
      assert.match(
        values.get(valueKey("slow", p))?.error ?? "",
        /canceled after 300 ms/,
      );
    }
  } finally {
    await client.close();
  }
});

Deno.test("fetchSqlValues() runs independent KPIs concurrently, never more than maxConcurrency at once", async () => {
  const { client, sent, peak } = counting(openPostgresClient(PG_URL));
  // Each query waits at a gate (an advisory lock this test holds), so the
  // database itself shows how many are in flight at once, however slow the
  // machine is.
  const gate = 770_000 + Math.floor(Math.random() * 100_000);
  const holder = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    const requests = Array.from({ length: 6 }, (_, i) => ({
      definition: {
        name: `k${i}`,
        source: "sql" as const,
        query:
          `SELECT ${i} + COUNT(*) FROM (SELECT pg_advisory_xact_lock_shared(${gate})) AS gate WHERE {{ period_start }}::date < {{ period_end }}::date`,
      },
      periods: [NOV],
    }));
    await holder`SELECT pg_advisory_lock(${gate})`;
    const running = fetchSqlValues(client, requests, {
      maxConcurrency: 3,
    });
    let waiting = 0;
    const deadline = Date.now() + 120_000;
    while (waiting < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      const [row] = await holder`
        SELECT COUNT(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND classid = 0 AND objid = ${gate}
          AND NOT granted`;
      waiting = row!.n;
    }
    assert.equal(waiting, 3, "three queries at the database at once");
    await holder`SELECT pg_advisory_unlock(${gate})`;
    const values = await running;
    assert.equal(sent.length, 6);
    assert.equal(peak(), 3);
    for (let i = 0; i < 6; i++) {
      assert.equal(values.get(valueKey(`k${i}`, NOV))?.value, i + 1);
    }
    await assert.rejects(
      fetchSqlValues(client, requests, { maxConcurrency: 0 }),
      RangeError,
    );
  } finally {
    await holder.end({ timeout: 0 });
    await client.close();
  }
});

Deno.test("fetchSqlValues() converts PostgreSQL numerics and bigints, and refuses other values by name", async () => {
  const client = openPostgresClient(PG_URL);
  const queries: Record<string, string> = {
    numeric: "SELECT '12.50'::numeric",
    bigint: "SELECT 12::int8",
    exponent: "SELECT '-1e3'::numeric",
    nan: "SELECT 'NaN'::numeric",
    date: "SELECT '2024-11-01T00:00:00Z'::timestamptz",
    bool: "SELECT true",
    text: "SELECT 'twelve'",
    nul: "SELECT NULL::int",
    two_columns: "SELECT 1, 2",
  };
  try {
    const values = await fetchSqlValues(
      client,
      Object.entries(queries).map(([name, query]) => ({
        definition: { name, source: "sql" as const, query },
        periods: [NOV],
      })),
    );
    const get = (name: string) => values.get(valueKey(name, NOV));
    assert.equal(get("numeric")?.value, 12.5);
    assert.equal(get("bigint")?.value, 12);
    assert.equal(get("exponent")?.value, -1000);
    assert.match(get("nan")?.error ?? "", /"NaN".*expected a number/);
    assert.match(get("date")?.error ?? "", /a date.*expected a number/);
    assert.match(
      get("bool")?.error ?? "",
      /true \(a boolean\); expected a number/,
    );
    assert.match(get("text")?.error ?? "", /"twelve".*expected a number/);
    assert.match(get("two_columns")?.error ?? "", /2 columns/);
    assert.equal(get("nul")?.value, null);
    assert.equal(get("nul")?.error, null);
    assert.equal(get("nul")?.note, "The query returned NULL");
  } finally {
    await client.close();
  }
});
