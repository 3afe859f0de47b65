import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import {
  type AuditLog,
  historyStoreKind,
  openHistoryStore,
} from "../src/adapters/history/open_history_store.ts";
import { openKvHistoryStore } from "../src/adapters/history/kv/open_kv_history_store.ts";
import type { HistoryRecord, KPIResult } from "../src/types.ts";
import {
  historyStoreSuite,
  richResult,
  valueResult,
} from "./_history_store_suite.ts";

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const FIXTURES = new URL("./fixtures/history/", import.meta.url);

function record(result: KPIResult, runAt: string): HistoryRecord {
  return { runId: `run-${runAt}`, runAt, periodLabel: "2024-11", result };
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "kpi_history_" });
}

function pgSchema(): string {
  return `kpi_hist_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

async function dropSchema(schema: string): Promise<void> {
  const sql = postgres(PG_URL, { onnotice: () => {} });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

// ---- the shared suite on all four stores --------------------------------

historyStoreSuite("SQLite", async () => {
  const dir = await tempDir();
  return {
    open: () => openHistoryStore("history.db", { baseDir: dir }),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}, { persistent: true });

historyStoreSuite("CSV", async () => {
  const dir = await tempDir();
  return {
    open: () => openHistoryStore("audit.csv", { baseDir: dir }),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}, { persistent: true });

// Reopening a KV file is tested below ("KV history in a file persists").
historyStoreSuite("Deno KV", () =>
  Promise.resolve({
    open: () => openHistoryStore("kv::memory:"),
    cleanup: () => Promise.resolve(),
  }), { persistent: false });

historyStoreSuite("PostgreSQL", () => {
  const schema = pgSchema();
  return Promise.resolve({
    open: () => openHistoryStore(`${PG_URL}?schema=${schema}`),
    cleanup: () => dropSchema(schema),
  });
}, { persistent: true });

// ---- choosing a store ----------------------------------------------------

Deno.test("historyStoreKind() tells each audit_log form apart", () => {
  const cases: [string, string][] = [
    ["history.db", "sqlite"],
    ["./data/History.SQLITE", "sqlite"],
    ["runs.sqlite3", "sqlite"],
    ["sqlite:./history", "sqlite"],
    ["sqlite::memory:", "sqlite"],
    ["sqlite:///var/lib/kpi/history.db", "sqlite"],
    ["audit.csv", "csv"],
    ["/var/log/KPI.CSV", "csv"],
    ["csv:./audit.log", "csv"],
    ["kv:./kpi.kv", "kv"],
    ["kv:", "kv"],
    ["kv::memory:", "kv"],
    ["postgres://u:p@db:5432/kpi", "postgres"],
    ["postgresql://db/kpi?schema=metrics", "postgres"],
  ];
  for (const [target, kind] of cases) {
    assert.equal(historyStoreKind(target), kind, target);
  }
  for (const bad of ["history.txt", "mysql://root@db/kpi", "sqlite:", "csv:"]) {
    assert.throws(() => historyStoreKind(bad), RangeError, bad);
  }
  assert.throws(
    () => historyStoreKind("history.txt"),
    /Cannot open audit_log "history\.txt": expected a path ending in \.db/,
  );
  assert.throws(() => historyStoreKind(""), TypeError);
});

Deno.test("openHistoryStore() resolves relative paths against baseDir", async () => {
  const dir = await tempDir();
  try {
    await Deno.mkdir(`${dir}/logs`);
    const stores: AuditLog[] = [
      await openHistoryStore("logs/audit.csv", { baseDir: dir }),
      await openHistoryStore("sqlite:logs/history.sqlite", { baseDir: dir }),
      await openHistoryStore("kv:logs/kpi.kv", { baseDir: dir }),
    ];
    for (const store of stores) {
      await store.append([
        record(valueResult("revenue", 1), "2024-12-01T00:00:00Z"),
      ]);
      await store.close();
    }
    assert.deepStrictEqual(stores.map((s) => s.kind), ["csv", "sqlite", "kv"]);
    assert.equal(stores[0]!.location, `${dir}/logs/audit.csv`);
    assert.equal(stores[1]!.location, `${dir}/logs/history.sqlite`);
    assert.equal(stores[2]!.location, `kv:${dir}/logs/kpi.kv`);
    const names = [];
    for await (const entry of Deno.readDir(`${dir}/logs`)) {
      names.push(entry.name);
    }
    assert.ok(names.includes("audit.csv"));
    assert.ok(names.includes("history.sqlite"));
    assert.ok(names.includes("kpi.kv"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- SQLite --------------------------------------------------------------

Deno.test("SQLite history uses WAL and keeps schema version 1 in kpi_meta", async () => {
  const dir = await tempDir();
  try {
    const store = await openHistoryStore(`${dir}/history.db`, {
      busyTimeoutMs: 1234,
    });
    await store.append([record(richResult(), "2024-12-01T00:00:00Z")]);
    await store.close();
    const db = new DatabaseSync(`${dir}/history.db`);
    try {
      assert.deepStrictEqual(
        { ...db.prepare("PRAGMA journal_mode").get() },
        { journal_mode: "wal" },
      );
      assert.deepStrictEqual(
        {
          ...db.prepare(
            "SELECT value FROM kpi_meta WHERE key = 'schema_version'",
          ).get(),
        },
        { value: "1" },
      );
      const row = db.prepare("SELECT * FROM kpi_history").get() as Record<
        string,
        unknown
      >;
      assert.equal(row.kpi_name, "revenue");
      assert.equal(row.run_at, "2024-12-01T00:00:00.000Z");
      assert.equal(row.run_id, "run-2024-12-01T00:00:00Z");
      assert.equal(row.period_label, "2024-11");
      assert.equal(row.alert_status, "critical");
      assert.equal(
        JSON.parse(String(row.alerts_triggered))[0].deliveries.length,
        2,
      );
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SQLite history refuses a file of a newer schema version", async () => {
  const dir = await tempDir();
  try {
    await (await openHistoryStore(`${dir}/h.db`)).close();
    const db = new DatabaseSync(`${dir}/h.db`);
    db.exec("UPDATE kpi_meta SET value = '2' WHERE key = 'schema_version'");
    db.close();
    await assert.rejects(
      openHistoryStore(`${dir}/h.db`),
      (error: Error) =>
        error instanceof RangeError && /schema version 2/.test(error.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SQLite history reads the reference package's audit_log (version 0)", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/legacy.sqlite`;
    await Deno.copyFile(new URL("reference_v0.sqlite", FIXTURES), path);
    const store = await openHistoryStore(path);
    try {
      const revenue = await store.history("revenue", 10);
      assert.deepStrictEqual(revenue[0], {
        name: "revenue",
        label: "revenue",
        unit: null,
        value: 104500,
        periodStart: "2024-11-01",
        periodEnd: "2024-12-01",
        comparisons: {},
        momChangePct: 6.6326,
        yoyChangePct: -3.25,
        alertStatus: "warning",
        alertsTriggered: [],
        queryDurationMs: 0,
        error: null,
        note: null,
      });
      assert.deepStrictEqual(revenue.map((r) => r.value), [
        104500,
        98000.25,
        125000.5,
      ]);
      assert.deepStrictEqual(revenue.map((r) => r.alertStatus), [
        "warning",
        "critical",
        "ok",
      ]);
      const users = await store.history("active_users", 10);
      assert.deepStrictEqual(users.map((r) => [r.value, r.alertStatus]), [
        [4210, "ok"],
        [null, "error"],
      ]);
      // New runs go on top of the old ones.
      await store.append([
        record(valueResult("revenue", 1), "2025-01-01T06:00:00Z"),
      ]);
      assert.deepStrictEqual(
        (await store.history("revenue", 2)).map((r) => r.value),
        [1, 104500],
      );
    } finally {
      await store.close();
    }
    // The old table is left as it was; opening again does not copy twice.
    const again = await openHistoryStore(path);
    assert.equal((await again.history("revenue", 10)).length, 4);
    await again.close();
    const db = new DatabaseSync(path);
    assert.deepStrictEqual(
      { ...db.prepare("SELECT count(*) AS n FROM audit_log").get() },
      { n: 5 },
    );
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- CSV -----------------------------------------------------------------

Deno.test("CSV history writes its header once and one line per plain row", async () => {
  const dir = await tempDir();
  try {
    const store = await openHistoryStore(`${dir}/audit.csv`);
    await store.append([
      record(valueResult("revenue", 1), "2024-12-01T00:00:00Z"),
    ]);
    await store.append([
      record(valueResult("revenue", 2), "2024-12-02T00:00:00Z"),
      record(valueResult("orders", 3), "2024-12-02T00:00:00Z"),
    ]);
    await store.close();
    const lines = (await Deno.readTextFile(`${dir}/audit.csv`)).split("\n");
    assert.equal(
      lines[0],
      "schema_version,run_id,run_at,period_label,kpi_name,label,unit,value,period_start,period_end,mom_change_pct,yoy_change_pct,alert_status,query_duration_ms,error,note,comparisons,alerts_triggered,extra",
    );
    assert.equal(lines.filter((l) => l.startsWith("schema_version")).length, 1);
    assert.equal(lines.length, 5); // header, 3 rows, final newline
    assert.equal(
      lines[1],
      '1,run-2024-12-01T00:00:00Z,2024-12-01T00:00:00.000Z,2024-11,revenue,revenue,"",1,2024-11-01,2024-12-01,,,ok,0.25,,,{},[],',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CSV history keeps alert state in <name>.alerts.json, replaced whole", async () => {
  const dir = await tempDir();
  try {
    const store = await openHistoryStore(`${dir}/audit.csv`);
    const state = {
      kpi: "revenue",
      rule: "critical:< 1000",
      status: "firing" as const,
      severity: "critical" as const,
      periodStart: "2024-11-01",
      periodEnd: "2024-12-01",
      channels: ["ops_slack"],
      firstFiredAt: "2024-12-01T06:00:00.000Z",
      lastSentAt: "2024-12-01T06:00:00.000Z",
    };
    await Promise.all([
      store.putAlertState(state),
      store.putAlertState({ ...state, rule: "warning:< 2000" }),
      store.putAlertState({ ...state, kpi: "orders" }),
    ]);
    await store.appendDeliveries([{
      runId: "r1",
      at: "2024-12-01T06:00:00Z",
      kpi: "revenue",
      rule: "critical:< 1000",
      status: "firing",
      delivery: {
        channel: "ops_slack",
        ok: true,
        status: 200,
        attempts: 1,
        error: null,
      },
    }]);
    await store.close();
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepStrictEqual(names.sort(), [
      "audit.alerts.json",
      "audit.csv",
      "audit.deliveries.csv",
    ]);
    const saved = JSON.parse(
      await Deno.readTextFile(`${dir}/audit.alerts.json`),
    );
    assert.equal(saved.schema_version, 1);
    assert.equal(saved.states.length, 3);
    const deliveries = await Deno.readTextFile(`${dir}/audit.deliveries.csv`);
    assert.match(
      deliveries,
      /^schema_version,run_id,at,kpi,rule,status,channel,ok,http_status,attempts,error\n/,
    );
    assert.match(
      deliveries,
      /\n1,r1,2024-12-01T06:00:00\.000Z,revenue,critical:< 1000,firing,ops_slack,true,200,1,\n$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CSV history reads the reference package's audit CSV (version 0)", async () => {
  const store = await openHistoryStore(
    new URL("reference_v0.csv", FIXTURES).pathname,
  );
  try {
    const revenue = await store.history("revenue", 10);
    assert.deepStrictEqual(revenue[0], {
      name: "revenue",
      label: "revenue",
      unit: null,
      value: 104500,
      periodStart: "2024-11-01",
      periodEnd: "2024-12-01",
      comparisons: {},
      momChangePct: null,
      yoyChangePct: null,
      alertStatus: "warning",
      alertsTriggered: [],
      queryDurationMs: 0,
      error: null,
      note: null,
    });
    assert.deepStrictEqual(revenue.map((r) => r.value), [
      104500,
      98000.25,
      125000.5,
    ]);
    assert.deepStrictEqual(
      (await store.history("active_users", 10)).map((
        r,
      ) => [r.value, r.alertStatus]),
      [[4210, "ok"], [null, "error"]],
    );
  } finally {
    await store.close();
  }
});

Deno.test("CSV history upgrades a version 0 file on first append and keeps a backup", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/audit.csv`;
    await Deno.copyFile(new URL("reference_v0.csv", FIXTURES), path);
    const original = await Deno.readTextFile(path);
    const store = await openHistoryStore(path);
    await store.append([
      record(valueResult("revenue", 1), "2025-01-01T06:00:00Z"),
    ]);
    assert.deepStrictEqual(
      (await store.history("revenue", 10)).map((r) => r.value),
      [1, 104500, 98000.25, 125000.5],
    );
    assert.equal((await store.history("active_users", 10)).length, 2);
    await store.close();
    assert.equal(await Deno.readTextFile(`${path}.v0.bak`), original);
    const text = await Deno.readTextFile(path);
    assert.ok(text.startsWith("schema_version,run_id,run_at,"));
    assert.equal(text.split("\n").length, 1 + 5 + 1 + 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CSV history: replace() on a version 0 file upgrades it, keeps a backup and replaces the period's row", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/audit.csv`;
    await Deno.copyFile(new URL("reference_v0.csv", FIXTURES), path);
    const original = await Deno.readTextFile(path);
    const store = await openHistoryStore(path);
    await store.replace([
      record(
        {
          ...valueResult("revenue", 1),
          periodStart: "2024-10-01",
          periodEnd: "2024-11-01",
        },
        "2025-01-01T06:00:00Z",
      ),
    ]);
    assert.deepStrictEqual(
      (await store.history("revenue", 10)).map((r) => [r.periodStart, r.value]),
      [["2024-10-01", 1], ["2024-11-01", 104500], ["2024-09-01", 125000.5]],
    );
    assert.equal((await store.history("active_users", 10)).length, 2);
    await store.close();
    assert.equal(await Deno.readTextFile(`${path}.v0.bak`), original);
    assert.ok(
      (await Deno.readTextFile(path)).startsWith("schema_version,run_id,"),
    );
    const left = [];
    for await (const entry of Deno.readDir(dir)) left.push(entry.name);
    assert.deepStrictEqual(left.sort(), ["audit.csv", "audit.csv.v0.bak"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CSV history: replace() keeps the file's permissions", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/audit.csv`;
    const store = await openHistoryStore(path);
    await store.append([
      record(valueResult("revenue", 1), "2024-12-01T00:00:00Z"),
    ]);
    await Deno.chmod(path, 0o600);
    await store.replace([
      record(valueResult("revenue", 2), "2024-12-02T00:00:00Z"),
    ]);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.deepStrictEqual(
      (await store.history("revenue", 5)).map((r) => r.value),
      [2],
    );
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CSV history: replace() refuses a file with rows of a newer schema version and leaves it as it was", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/audit.csv`;
    const store = await openHistoryStore(path);
    await store.append([
      record(valueResult("revenue", 1), "2024-12-01T00:00:00Z"),
    ]);
    const newer = (await Deno.readTextFile(path)).replace("\n1,", "\n2,");
    await Deno.writeTextFile(path, newer);
    await assert.rejects(
      store.replace([
        record(valueResult("revenue", 2), "2024-12-02T00:00:00Z"),
      ]),
      /schema version 2/,
    );
    assert.equal(await Deno.readTextFile(path), newer);
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CSV history refuses rows of a newer schema version", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/audit.csv`;
    const store = await openHistoryStore(path);
    await store.append([
      record(valueResult("revenue", 1), "2024-12-01T00:00:00Z"),
    ]);
    const text = await Deno.readTextFile(path);
    await Deno.writeTextFile(path, text.replace("\n1,", "\n2,"));
    await assert.rejects(store.history("revenue", 1), /schema version 2/);
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CSV history skips a row cut short and goes on appending", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/audit.csv`;
    const store = await openHistoryStore(path);
    await store.append([
      record(valueResult("revenue", 1), "2024-12-01T00:00:00Z"),
    ]);
    await Deno.writeTextFile(
      path,
      "1,run-x,2024-12-02T00:00:00.000Z,2024-11,revenue,rev",
      {
        append: true,
      },
    );
    await store.append([
      record(valueResult("revenue", 3), "2024-12-03T00:00:00Z"),
    ]);
    assert.deepStrictEqual(
      (await store.history("revenue", 10)).map((r) => r.value),
      [3, 1],
    );
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- Deno KV -------------------------------------------------------------

Deno.test("KV history keys results by name, run time and sequence", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = await openHistoryStore("kv:", { kv });
    assert.equal(store.location, "kv:");
    await store.append([
      record(valueResult("revenue", 1), "2024-12-01T00:00:00Z"),
      record(valueResult("revenue", 2), "2024-12-02T00:00:00+01:00"),
    ]);
    await store.close();
    const keys = [];
    for await (const entry of kv.list({ prefix: ["kpi-history"] })) {
      keys.push(entry.key);
    }
    assert.deepStrictEqual(keys, [
      ["kpi-history", "revenue", "2024-12-01T00:00:00.000Z", 1],
      ["kpi-history", "revenue", "2024-12-01T23:00:00.000Z", 2],
    ]);
    assert.equal((await kv.get(["kpi-meta", "schema_version"])).value, 1);
    // The handle was the caller's: still open after the store closed.
    assert.equal((await kv.get(["kpi-meta", "seq"])).value, 2);
  } finally {
    kv.close();
  }
});

Deno.test("KV history splits a large result into pieces of one atomic write each", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = await openKvHistoryStore(kv);
    const big = richResult();
    big.error = "€".repeat(200_000);
    await store.append([record(big, "2024-12-01T00:00:00Z")]);
    const pieces = [];
    for await (const entry of kv.list({ prefix: ["kpi-history-part"] })) {
      pieces.push(entry.value as Uint8Array);
    }
    assert.ok(pieces.length >= 10, `${pieces.length} pieces`);
    assert.ok(pieces.every((p) => p.length <= 60_000));
    assert.deepStrictEqual(await store.history("revenue", 1), [big]);
    await store.close();
  } finally {
    kv.close();
  }
});

Deno.test("KV history in a file persists across opens", async () => {
  const dir = await tempDir();
  try {
    const first = await openHistoryStore(`kv:${dir}/kpi.kv`);
    await first.append([record(richResult(), "2024-12-01T00:00:00Z")]);
    await first.close();
    const again = await openHistoryStore(`kv:${dir}/kpi.kv`);
    assert.deepStrictEqual(await again.history("revenue", 5), [richResult()]);
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KV history refuses a KV of a newer schema version", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await kv.set(["kpi-meta", "schema_version"], 2);
    await assert.rejects(openKvHistoryStore(kv), /schema version 2/);
  } finally {
    kv.close();
  }
});

// ---- PostgreSQL ----------------------------------------------------------

Deno.test("PostgreSQL history is shared by engines on the same schema and prefix", async () => {
  const schema = pgSchema();
  const url = `${PG_URL}?schema=${schema}&table_prefix=metrics_`;
  const [a, b] = await Promise.all([
    openHistoryStore(url),
    openHistoryStore(url),
  ]);
  try {
    await a.append([record(richResult(), "2024-12-01T00:00:00Z")]);
    await b.append([record(valueResult("revenue", 2), "2024-12-02T00:00:00Z")]);
    assert.deepStrictEqual(
      (await a.history("revenue", 5)).map((r) => r.value),
      [2, richResult().value],
    );
    assert.deepStrictEqual((await b.history("revenue", 5))[1], richResult());
    const sql = postgres(PG_URL, { onnotice: () => {} });
    try {
      const tables = await sql`
        SELECT table_name FROM information_schema.tables
        WHERE table_schema = ${schema} ORDER BY table_name`;
      assert.deepStrictEqual(tables.map((t) => t.table_name), [
        "metrics_alert_claim",
        "metrics_alert_delivery",
        "metrics_alert_state",
        "metrics_history",
        "metrics_meta",
      ]);
    } finally {
      await sql.end({ timeout: 5 });
    }
  } finally {
    await a.close();
    await b.close();
    await dropSchema(schema);
  }
});

Deno.test("PostgreSQL history hides the password in its location", async () => {
  const schema = pgSchema();
  const store = await openHistoryStore(
    `postgres://postgres:secret@127.0.0.1:5432/test?schema=${schema}`,
  );
  try {
    assert.equal(store.location, "postgres://postgres:***@127.0.0.1:5432/test");
    await store.ping();
  } finally {
    await store.close();
    await dropSchema(schema);
  }
});

Deno.test("PostgreSQL history refuses tables of a newer schema version", async () => {
  const schema = pgSchema();
  try {
    await (await openHistoryStore(PG_URL, { schema })).close();
    const sql = postgres(PG_URL, { onnotice: () => {} });
    await sql.unsafe(
      `UPDATE "${schema}".kpi_meta SET value = '2' WHERE key = 'schema_version'`,
    );
    await sql.end({ timeout: 5 });
    await assert.rejects(openHistoryStore(PG_URL, { schema }), RangeError);
    await assert.rejects(
      openHistoryStore(PG_URL, { schema: 'x"; DROP TABLE y; --' }),
      RangeError,
    );
  } finally {
    await dropSchema(schema);
  }
});

Deno.test("a SQLite history waits connect_timeout_ms (its busy timeout) for another connection's lock, then fails", async () => {
  const { openEngine } = await import("../src/adapters/mod.ts");
  const dir = await tempDir();
  const config = `${dir}/kpis.yaml`;
  await Deno.writeTextFile(
    config,
    `audit_log: history.db
connect_timeout_ms: 200
kpis:
  - name: revenue
    source: sql
    query: SELECT 1
`,
  );
  const engine = await openEngine(config, { env: {} });
  const other = new DatabaseSync(`${dir}/history.db`);
  try {
    other.exec("BEGIN IMMEDIATE");
    const started = performance.now();
    await assert.rejects(
      engine.historyStore!.append([
        record(valueResult("revenue", 1), "2024-12-01T00:00:00Z"),
      ]),
      /locked/,
    );
    const waited = performance.now() - started;
    // It waited for the lock, and not the 5 s it waits by default.
    assert.ok(waited >= 150 && waited < 4000, `waited ${waited} ms`);
    other.exec("ROLLBACK");
    await engine.historyStore!.append([
      record(valueResult("revenue", 1), "2024-12-01T00:00:00Z"),
    ]);
    assert.equal((await engine.historyStore!.history("revenue", 5)).length, 1);
  } finally {
    other.close();
    await engine.close();
    await Deno.remove(dir, { recursive: true });
  }
});
