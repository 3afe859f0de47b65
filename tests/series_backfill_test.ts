import assert from "node:assert/strict";
import { join } from "node:path";
import postgres from "postgres";
import { DatabaseSync } from "node:sqlite";
import { KPIEngine } from "../mod.ts";
import type { AlertBatch, HistoryStore, KPIDefinition } from "../mod.ts";
import { openHistoryStore } from "../src/adapters/history/open_history_store.ts";

const NOW = Temporal.Instant.from("2024-07-15T12:00:00Z");
const PG = "postgres://postgres@127.0.0.1:5432/test";

/** One order a day in 2024 up to July 15; amount = day of month. */
const ORDERS = (() => {
  const rows: { day: string; amount: number }[] = [];
  for (
    let d = Temporal.PlainDate.from("2023-12-01");
    Temporal.PlainDate.compare(d, Temporal.PlainDate.from("2024-07-16")) < 0;
    d = d.add({ days: 1 })
  ) rows.push({ day: d.toString(), amount: d.day });
  return rows;
})();

function sumOf(start: string, end: string): number {
  return ORDERS.filter((o) => o.day >= start && o.day < end).reduce(
    (s, o) => s + o.amount,
    0,
  );
}

function revenue(aggregation: "sum" | "avg"): KPIDefinition {
  return {
    name: "revenue",
    source: "dataframe",
    query: "orders.amount",
    aggregation,
    compare: ["MoM"],
    // Holds for every month: a backfill must still send nothing.
    alerts: [{ condition: "> 0", severity: "critical" }],
  };
}

function engineOn(
  store: HistoryStore,
  aggregation: "sum" | "avg",
  sent: AlertBatch[],
): KPIEngine {
  return new KPIEngine({
    kpis: [revenue(aggregation)],
    dataframes: { orders: ORDERS },
    history: store,
    notifier: {
      notify: (batch) => {
        sent.push(batch);
        return Promise.resolve([]);
      },
    },
    now: () => NOW,
  });
}

interface StoreCase {
  name: string;
  open(dir: string): Promise<{ store: HistoryStore; rows(): Promise<number> }>;
  cleanup?(): Promise<void>;
}

const CASES: StoreCase[] = [
  {
    name: "sqlite",
    async open(dir) {
      const path = join(dir, "history.db");
      const store = await openHistoryStore(path);
      return {
        store,
        rows: () => {
          const db = new DatabaseSync(path, { readOnly: true });
          try {
            return Promise.resolve(
              Number(
                (db.prepare(
                  "SELECT COUNT(*) AS n FROM kpi_history WHERE kpi_name = 'revenue'",
                ).get() as { n: number }).n,
              ),
            );
          } finally {
            db.close();
          }
        },
      };
    },
  },
  {
    name: "postgres",
    async open() {
      const schema = `kpi_h_${
        crypto.randomUUID().replaceAll("-", "").slice(0, 12)
      }`;
      const admin = postgres(PG, { max: 1, onnotice: () => {} });
      await admin.unsafe(`CREATE SCHEMA ${schema}`);
      const store = await openHistoryStore(PG, { schema });
      const close = store.close.bind(store);
      store.close = async () => {
        await close();
        await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
        await admin.end();
      };
      return {
        store,
        rows: async () =>
          Number(
            (await admin.unsafe(
              `SELECT COUNT(*) AS n FROM ${schema}.kpi_history WHERE kpi_name = 'revenue'`,
            ))[0]?.n,
          ),
      };
    },
  },
  {
    name: "csv",
    async open(dir) {
      const store = await openHistoryStore(join(dir, "history.csv"));
      return {
        store,
        rows: async () => (await store.history("revenue", 1000)).length,
      };
    },
  },
  {
    name: "kv",
    async open() {
      const store = await openHistoryStore("kv::memory:");
      return {
        store,
        rows: async () => (await store.history("revenue", 1000)).length,
      };
    },
  },
];

for (const c of CASES) {
  Deno.test(`[${c.name}] backfill writes one row per KPI and month, twice gives the same, a changed definition replaces them, and no alert is sent`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "kpi_backfill_" });
    const { store, rows } = await c.open(dir);
    try {
      const sent: AlertBatch[] = [];
      const first = engineOn(store, "sum", sent);
      const progress: number[] = [];
      const summary = await first.backfill("revenue", {
        grain: "month",
        from: "2024-01",
        to: "2024-07",
        chunkSize: 4,
        onProgress: (p) => progress.push(p.done),
      });
      // July is still running: it is left out.
      assert.equal(summary.periods, 6);
      assert.equal(summary.written, 6);
      assert.equal(summary.failed, 0);
      assert.deepEqual(progress, [4, 6]);
      const again = await first.backfill("revenue", {
        grain: "month",
        from: "2024-01",
        to: "2024-07",
      });
      assert.equal(again.stale, 0);
      assert.ok(summary.replaced);
      assert.equal(await rows(), 6);
      const months = await first.history("revenue", { grain: "month", n: 10 });
      assert.deepEqual(
        months.map((r) => [r.periodStart, r.value, r.grain]),
        [6, 5, 4, 3, 2, 1].map((m) => {
          const start = `2024-0${m}-01`;
          const end = m === 12 ? "2025-01-01" : `2024-0${m + 1}-01`;
          return [start, sumOf(start, end), "month"];
        }),
      );
      assert.equal(months[0]?.recordedAt, "2024-07-15T12:00:00.000Z");
      assert.match(months[0]?.definitionHash ?? "", /^[0-9a-f]{16}$/);
      // Computed with MoM and alert rules evaluated, but nothing sent.
      assert.equal(
        months[0]?.comparisons.MoM?.previousValue,
        sumOf("2024-05-01", "2024-06-01"),
      );
      assert.equal(months[0]?.alertStatus, "critical");
      assert.equal(sent.length, 0);

      // A run of a quarter records a quarterly row: the monthly history
      // still holds only months.
      await first.run("2024-Q2");
      assert.equal(sent.length, 1, "a run still alerts");
      const monthly = await first.history("revenue", { grain: "month", n: 10 });
      assert.equal(monthly.length, 6);
      assert.ok(monthly.every((r) => r.grain === "month"));
      const quarters = await first.history("revenue", { grain: "quarter" });
      assert.deepEqual(quarters.map((r) => r.periodStart), ["2024-04-01"]);

      // A changed definition: every month is stale and replaced.
      const changed = engineOn(store, "avg", sent);
      const third = await changed.backfill("revenue", {
        grain: "month",
        from: "2024-01",
        to: "2024-06",
      });
      assert.equal(third.stale, 6);
      assert.equal(await rows(), 7);
      const averaged = await changed.history("revenue", {
        grain: "month",
        n: 1,
      });
      assert.equal(averaged[0]?.value, sumOf("2024-06-01", "2024-07-01") / 30);
      assert.notEqual(averaged[0]?.definitionHash, months[0]?.definitionHash);
      assert.equal(sent.length, 1);
    } finally {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("history(name, { grain }) reads rows written before grains were kept by the days they cover", async () => {
  const store = await openHistoryStore("kv::memory:");
  try {
    const result = (start: string, end: string, value: number) => ({
      name: "revenue",
      label: "Revenue",
      unit: null,
      value,
      periodStart: start,
      periodEnd: end,
      comparisons: {},
      momChangePct: null,
      yoyChangePct: null,
      alertStatus: "ok" as const,
      alertsTriggered: [],
      queryDurationMs: 1,
      error: null,
      note: null,
    });
    await store.append([
      {
        runId: "a",
        runAt: "2024-06-01T00:00:00Z",
        periodLabel: "2024-05",
        result: result("2024-05-01", "2024-06-01", 5),
      },
      {
        runId: "b",
        runAt: "2024-06-02T00:00:00Z",
        periodLabel: "2024-Q2",
        result: result("2024-04-01", "2024-07-01", 9),
      },
      {
        runId: "c",
        runAt: "2024-06-03T00:00:00Z",
        periodLabel: "this_month",
        result: result("2024-06-01", "2024-06-03", 1),
      },
    ]);
    const engine = new KPIEngine({
      kpis: [revenue("sum")],
      dataframes: { orders: ORDERS },
      history: store,
      now: () => NOW,
    });
    assert.deepEqual(
      (await engine.history("revenue", { grain: "month" })).map((r) => r.value),
      [5],
    );
    assert.deepEqual(
      (await engine.history("revenue", { grain: "custom" })).map((r) =>
        r.value
      ),
      [1],
    );
    assert.equal((await engine.history("revenue", 10)).length, 3);
    await assert.rejects(
      engine.history("revenue", { grain: "fortnight" as "day" }),
      /Invalid grain "fortnight"/,
    );
  } finally {
    await store.close();
  }
});

Deno.test("cli.ts backfill shows plain progress lines when piped and a summary; history shows the period and recorded-at", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi_backfill_cli_" });
  try {
    const db = new DatabaseSync(join(dir, "shop.db"));
    db.exec("CREATE TABLE orders (order_date TEXT, amount REAL)");
    const insert = db.prepare("INSERT INTO orders VALUES (?, ?)");
    db.exec("BEGIN");
    for (const o of ORDERS) insert.run(o.day, o.amount);
    db.exec("COMMIT");
    db.close();
    const config = join(dir, "kpis.yaml");
    await Deno.writeTextFile(
      config,
      `connection: sqlite:./shop.db
audit_log: ./history.db
kpis:
  - name: revenue
    source: sql
    table: orders
    column: amount
    aggregation: sum
    time_column: order_date
`,
    );
    const cli = async (args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../cli.ts", import.meta.url).pathname,
          ...args,
        ],
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      return {
        code: out.code,
        stdout: new TextDecoder().decode(out.stdout),
        stderr: new TextDecoder().decode(out.stderr),
      };
    };
    const run = await cli([
      "backfill",
      "--config",
      config,
      "--grain",
      "month",
      "--from",
      "2024-01",
      "--to",
      "2024-06",
      "--as-of",
      "2024-07-15",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "backfill: 6/6 periods, up to 2024-06\n");
    assert.match(
      run.stdout,
      /^Backfilled 6 rows: 1 KPI × 6 month periods in [\d.]+ s; 0 replaced a row of an older definition; 0 could not be computed\.\n$/,
    );
    const history = await cli([
      "history",
      "--config",
      config,
      "revenue",
      "-n",
      "2",
      "--grain",
      "month",
    ]);
    assert.equal(history.code, 0, history.stderr);
    const lines = history.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^Period +Grain +Value +Status +Recorded at$/);
    assert.match(
      lines[1]!,
      /^2024-06 +month +465 +ok +\d{4}-\d\d-\d\dT[\d:.]+Z$/,
    );
    assert.match(lines[2]!, /^2024-05 +month +496 /);
    const missing = await cli([
      "backfill",
      "--config",
      config,
      "--grain",
      "month",
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Missing --from/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
