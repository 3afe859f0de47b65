/**
 * The tests every history store passes. `historyStoreSuite(kind, setup)`
 * registers them for one store; `setup` returns a fresh place to open it.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AuditLog } from "../src/adapters/history/open_history_store.ts";
import { KPIEngine } from "../mod.ts";
import type {
  AlertState,
  DeliveryRecord,
  HistoryRecord,
  KPIResult,
} from "../src/types.ts";

/** A fresh, empty place to keep history, for one test. */
export interface HistoryStoreEnv {
  /** Opens the store; again on the same data, for persistent stores. */
  open(): Promise<AuditLog>;
  /** Removes everything the test left. */
  cleanup(): Promise<void>;
}

/** A result with every field set, including awkward values. */
export function richResult(name = "revenue"): KPIResult {
  return {
    name,
    label: 'Revenue, "net" — €\nsecond line',
    unit: "USD",
    value: 0.1 + 0.2,
    periodStart: "2024-11-01",
    periodEnd: "2024-12-01",
    comparisons: {
      MoM: {
        previousValue: 5000.25,
        change: -4999.95,
        changePct: -99.99400029998501,
        periodStart: "2024-10-01",
        periodEnd: "2024-11-01",
        favorable: false,
      },
      YoY: {
        previousValue: null,
        change: null,
        changePct: null,
        periodStart: "2023-11-01",
        periodEnd: "2023-12-01",
        favorable: null,
      },
    },
    momChangePct: -99.99400029998501,
    yoyChangePct: null,
    alertStatus: "critical",
    alertsTriggered: [
      {
        condition: "< 1000",
        severity: "critical",
        message: "Revenue fell to 0.3, a 99.99% drop; check 'orders'",
        deliveries: [
          {
            channel: "ops_slack",
            ok: true,
            status: 200,
            attempts: 1,
            error: null,
          },
          {
            channel: "oncall",
            ok: false,
            status: 503,
            attempts: 3,
            error: "Service Unavailable, gave up",
          },
        ],
      },
      { condition: "MoM < -10%", severity: "warning", message: "" },
    ],
    queryDurationMs: 1.7,
    error: null,
    note: "",
  };
}

/** A result of a KPI that could not be computed. */
export function failedResult(name = "revenue"): KPIResult {
  return {
    name,
    label: name,
    unit: null,
    value: null,
    periodStart: "2024-11-01",
    periodEnd: "2024-12-01",
    comparisons: {},
    momChangePct: null,
    yoyChangePct: null,
    alertStatus: "error",
    alertsTriggered: [],
    queryDurationMs: 0,
    error: 'relation "orders" does not exist',
    note: null,
  };
}

/** A small result whose value tells records apart. */
export function valueResult(name: string, value: number): KPIResult {
  return {
    name,
    label: name,
    unit: "",
    value,
    periodStart: "2024-11-01",
    periodEnd: "2024-12-01",
    comparisons: {},
    momChangePct: null,
    yoyChangePct: null,
    alertStatus: "ok",
    alertsTriggered: [],
    queryDurationMs: 0.25,
    error: null,
    note: null,
  };
}

function record(
  result: KPIResult,
  runAt: string,
  runId = `run-${runAt}`,
): HistoryRecord {
  return { runId, runAt, periodLabel: "last_month", result };
}

function inPeriod(
  result: KPIResult,
  [periodStart, periodEnd]: readonly [string, string],
): KPIResult {
  return { ...result, periodStart, periodEnd };
}

/** One order a day from December 2023 to July 15, 2024: amount = day. */
const DAILY_ORDERS = (() => {
  const rows: { day: string; amount: number; qty: number }[] = [];
  for (
    let d = Temporal.PlainDate.from("2023-12-01");
    Temporal.PlainDate.compare(d, Temporal.PlainDate.from("2024-07-16")) < 0;
    d = d.add({ days: 1 })
  ) rows.push({ day: d.toString(), amount: d.day, qty: 1 });
  return rows;
})();

function alertState(overrides: Partial<AlertState> = {}): AlertState {
  return {
    kpi: "revenue",
    rule: "critical:< 1000",
    status: "firing",
    severity: "critical",
    periodStart: "2024-11-01",
    periodEnd: "2024-12-01",
    channels: ["ops_slack", "oncall"],
    firstFiredAt: "2024-12-01T06:00:00.000Z",
    lastSentAt: "2024-12-01T06:00:00.000Z",
    ...overrides,
  };
}

function delivery(
  at: string,
  channel: string,
  ok: boolean,
  kpi = "revenue",
): DeliveryRecord {
  return {
    runId: `run-${at}`,
    at,
    kpi,
    rule: "critical:< 1000",
    status: "firing",
    delivery: {
      channel,
      ok,
      status: ok ? 200 : null,
      attempts: ok ? 1 : 4,
      error: ok ? null : "connect ECONNREFUSED 127.0.0.1:9",
    },
  };
}

async function withStore(
  setup: () => Promise<HistoryStoreEnv>,
  test: (store: AuditLog, env: HistoryStoreEnv) => Promise<void>,
): Promise<void> {
  const env = await setup();
  let store: AuditLog | undefined;
  try {
    store = await env.open();
    await test(store, env);
  } finally {
    await store?.close();
    await env.cleanup();
  }
}

/**
 * Registers the shared history store tests for one kind of store.
 *
 * @param kind Names the store in test names, e.g. `SQLite`.
 * @param setup Makes a fresh, empty place for one test.
 * @param options `persistent`: whether a store opened again sees what an
 * earlier one wrote (not so for `:memory:`); only then is reopening tested.
 */
export function historyStoreSuite(
  kind: string,
  setup: () => Promise<HistoryStoreEnv>,
  options: { persistent: boolean },
): void {
  const test = (
    name: string,
    fn: (store: AuditLog, env: HistoryStoreEnv) => Promise<void>,
  ) => Deno.test(`${kind} history: ${name}`, () => withStore(setup, fn));

  test("history() gives back every field of an appended result", async (store) => {
    const rich = richResult();
    await store.append([record(rich, "2024-12-01T06:00:00.000Z")]);
    const [got, ...rest] = await store.history("revenue", 10);
    assert.equal(rest.length, 0);
    assert.ok(got);
    for (const key of Object.keys(rich) as (keyof KPIResult)[]) {
      assert.deepStrictEqual(got[key], rich[key], `field ${key}`);
    }
    assert.deepStrictEqual(got, rich);
    assert.equal(got.value, 0.30000000000000004);
  });

  test("history() keeps a failed result's error and null value", async (store) => {
    const failed = failedResult();
    await store.append([record(failed, "2024-12-01T06:00:00Z")]);
    const got = await store.history("revenue", 1);
    assert.deepStrictEqual(got, [failed]);
    assert.equal(got[0]?.value, null);
    assert.equal(got[0]?.unit, null);
    assert.equal(got[0]?.note, null);
  });

  test("history() keeps an empty unit apart from a null one", async (store) => {
    await store.append([
      record(valueResult("a", 1), "2024-12-01T06:00:00Z"),
      record({ ...valueResult("b", 2), unit: null }, "2024-12-01T06:00:00Z"),
    ]);
    assert.equal((await store.history("a", 1))[0]?.unit, "");
    assert.equal((await store.history("b", 1))[0]?.unit, null);
  });

  test("history() lists newest first by run time, ties in insertion order", async (store) => {
    await store.append([
      record(valueResult("orders", 2), "2024-12-02T00:00:00Z"),
      record(valueResult("orders", 1), "2024-12-01T00:00:00Z"),
      record(valueResult("other", 9), "2024-12-05T00:00:00Z"),
    ]);
    await store.append([
      record(valueResult("orders", 4), "2024-12-04T00:00:00+02:00"),
      record(valueResult("orders", 3), "2024-12-03T23:00:00Z"),
    ]);
    // Same instant as value 4, written later: comes first.
    await store.append([
      record(valueResult("orders", 5), "2024-12-03T22:00:00.000Z"),
    ]);
    await store.append([
      record(valueResult("orders", 6), "2024-12-03T22:00:00Z"),
      record(valueResult("orders", 7), "2024-12-03T22:00:00Z"),
    ]);
    const values = (await store.history("orders", 10)).map((r) => r.value);
    assert.deepStrictEqual(values, [3, 7, 6, 5, 4, 2, 1]);
  });

  test("history() returns at most n results and checks n", async (store) => {
    const records = [1, 2, 3, 4, 5].map((v) =>
      record(valueResult("signups", v), `2024-12-0${v}T00:00:00Z`)
    );
    await store.append(records);
    const two = await store.history("signups", 2);
    assert.deepStrictEqual(two.map((r) => r.value), [5, 4]);
    assert.equal((await store.history("signups", 1)).length, 1);
    assert.equal((await store.history("signups", 100)).length, 5);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(store.history("signups", bad), RangeError);
    }
  });

  test("history() of an unknown KPI is empty", async (store) => {
    assert.deepStrictEqual(await store.history("nothing_here", 5), []);
    await store.append([
      record(valueResult("revenue", 1), "2024-12-01T00:00:00Z"),
    ]);
    assert.deepStrictEqual(await store.history("revenu", 5), []);
    assert.deepStrictEqual(await store.history("revenue_x", 5), []);
  });

  test("append() of nothing writes nothing; a bad record writes nothing", async (store) => {
    await store.append([]);
    await assert.rejects(
      store.append([
        record(valueResult("revenue", 1), "2024-12-01T00:00:00Z"),
        record(valueResult("revenue", 2), "yesterday"),
      ]),
      RangeError,
    );
    assert.deepStrictEqual(await store.history("revenue", 5), []);
  });

  test("append() keeps a result larger than 64 KiB", async (store) => {
    const big = richResult();
    big.alertsTriggered[0]!.message = "é€😀 ".repeat(40_000);
    big.error = "x".repeat(70_000);
    await store.append([record(big, "2024-12-01T00:00:00Z")]);
    assert.deepStrictEqual(await store.history("revenue", 1), [big]);
  });

  test("replace() leaves one row per KPI and period, and keeps the others", async (store) => {
    const nov = ["2024-11-01", "2024-12-01"] as const;
    const oct = ["2024-10-01", "2024-11-01"] as const;
    const sep = ["2024-09-01", "2024-10-01"] as const;
    const big = { ...inPeriod(richResult(), sep), value: 9 };
    big.error = "x".repeat(70_000);
    await store.append([
      record(inPeriod(valueResult("revenue", 1), nov), "2024-12-01T00:00:00Z"),
      record(inPeriod(valueResult("revenue", 2), oct), "2024-12-01T00:00:00Z"),
      record(inPeriod(valueResult("orders", 3), nov), "2024-12-01T00:00:00Z"),
      record(big, "2024-12-01T00:00:00Z"),
    ]);
    await store.append([
      record(inPeriod(valueResult("revenue", 4), nov), "2024-12-02T00:00:00Z"),
    ]);
    // A quarter overlapping November is another period: kept.
    const q4 = ["2024-10-01", "2025-01-01"] as const;
    await store.append([
      record(inPeriod(valueResult("revenue", 5), q4), "2025-01-02T00:00:00Z"),
    ]);
    const fresh = [
      record(inPeriod(valueResult("revenue", 10), nov), "2025-02-01T00:00:00Z"),
      record(inPeriod(valueResult("revenue", 11), sep), "2025-02-01T00:00:00Z"),
    ];
    for (let round = 0; round < 2; round++) {
      await store.replace(fresh);
      const rows = await store.history("revenue", 100);
      assert.deepStrictEqual(
        rows.map((r) => [r.periodStart, r.periodEnd, r.value]),
        [
          // Same instant: the later insertion first.
          ["2024-09-01", "2024-10-01", 11],
          ["2024-11-01", "2024-12-01", 10],
          ["2024-10-01", "2025-01-01", 5],
          ["2024-10-01", "2024-11-01", 2],
        ],
        `round ${round + 1}`,
      );
      assert.deepStrictEqual(
        (await store.history("orders", 10)).map((r) => r.value),
        [3],
      );
    }
    await store.replace([]);
    assert.equal((await store.history("revenue", 100)).length, 4);
  });

  test("replace() of a large row replaces it and is read back whole", async (store) => {
    const big = richResult();
    big.error = "x".repeat(70_000);
    await store.replace([record(big, "2024-12-01T00:00:00Z")]);
    const bigger = { ...big, value: 7, error: "y".repeat(80_000) };
    await store.replace([record(bigger, "2024-12-02T00:00:00Z")]);
    assert.deepStrictEqual(await store.history("revenue", 5), [bigger]);
  });

  test("backfill twice leaves one row per KPI, grain and period; a changed definition replaces them", async (store) => {
    const backfill = async (aggregation: "sum" | "avg") => {
      const engine = new KPIEngine({
        kpis: ["revenue", "units"].map((name) => ({
          name,
          source: "dataframe" as const,
          query: `orders.${name === "revenue" ? "amount" : "qty"}`,
          aggregation,
        })),
        dataframes: { orders: DAILY_ORDERS },
        history: store,
        now: () => Temporal.Instant.from("2024-07-15T12:00:00Z"),
      });
      for (const grain of ["month", "week"] as const) {
        await engine.backfill([], { grain, from: "2024-01", to: "2024-07" });
      }
      return engine;
    };
    // The whole buckets up to July 15: 6 months (July is not over) and 28
    // weeks (Monday, January 1 to Sunday, July 14).
    const expected = 6 + 28;
    await backfill("sum");
    const first = await store.history("revenue", 1000);
    assert.equal(first.length, expected);
    await backfill("sum");
    for (const name of ["revenue", "units"]) {
      const rows = await store.history(name, 1000);
      assert.equal(rows.length, expected, name);
      const periods = new Set(rows.map((r) => `${r.periodStart}/${r.grain}`));
      assert.equal(periods.size, expected, name);
    }
    const changed = await backfill("avg");
    const rows = await store.history("revenue", 1000);
    assert.equal(rows.length, expected);
    assert.ok(rows.every((r) => r.definitionHash !== first[0]?.definitionHash));
    const june =
      (await changed.history("revenue", { grain: "month", n: 1 }))[0];
    assert.equal(june?.periodStart, "2024-06-01");
    assert.equal(june?.value, 15.5); // days 1 to 30, one order each
  });

  test("putAlertState() upserts by KPI and rule; getAlertState() reads it", async (store) => {
    assert.equal(await store.getAlertState("revenue", "critical:< 1000"), null);
    const first = alertState();
    await store.putAlertState(first);
    assert.deepStrictEqual(
      await store.getAlertState("revenue", "critical:< 1000"),
      first,
    );
    const resolved = alertState({
      status: "resolved",
      channels: [],
      lastSentAt: "2025-01-01T06:00:00.000Z",
    });
    await store.putAlertState(resolved);
    const other = alertState({
      rule: "warning:MoM < -10%",
      severity: "warning",
    });
    await store.putAlertState(other);
    const elsewhere = alertState({ kpi: "orders" });
    await store.putAlertState(elsewhere);
    assert.deepStrictEqual(
      await store.getAlertState("revenue", "critical:< 1000"),
      resolved,
    );
    assert.deepStrictEqual(
      await store.getAlertState("revenue", "warning:MoM < -10%"),
      other,
    );
    assert.deepStrictEqual(
      await store.getAlertState("orders", "critical:< 1000"),
      elsewhere,
    );
    assert.equal(
      await store.getAlertState("orders", "warning:MoM < -10%"),
      null,
    );
  });

  test("appendDeliveries() keeps every outcome, newest first", async (store) => {
    const records = [
      delivery("2024-12-01T06:00:00.000Z", "ops_slack", true),
      delivery("2024-12-01T06:00:00.000Z", "oncall", false),
      delivery("2024-12-02T06:00:00.000Z", "hook", true),
      delivery("2024-12-03T06:00:00.000Z", "ops_slack", true, "orders"),
    ];
    await store.appendDeliveries(records.slice(0, 2));
    await store.appendDeliveries(records.slice(2));
    await store.appendDeliveries([]);
    assert.deepStrictEqual(await store.deliveries("revenue", 10), [
      records[2],
      records[1],
      records[0],
    ]);
    assert.deepStrictEqual(await store.deliveries("orders", 10), [records[3]]);
    assert.equal((await store.deliveries("revenue", 1)).length, 1);
  });

  test("claimNotice() claims a key once; a new claim deletes the claims more than 30 days older", async (store) => {
    const claim = (key: string, at: string) => store.claimNotice!(key, at);
    assert.equal(await claim("a", "2024-01-01T06:00:00Z"), true);
    assert.equal(await claim("a", "2024-01-01T06:00:01Z"), false);
    // Exactly 30 days on, "a" is kept.
    assert.equal(await claim("b", "2024-01-31T06:00:00Z"), true);
    assert.equal(await claim("a", "2024-01-31T06:00:00Z"), false);
    // A second later a new claim deletes "a" (and not "b"): "a" can be
    // claimed again.
    assert.equal(await claim("c", "2024-01-31T06:00:01Z"), true);
    assert.equal(await claim("a", "2024-01-31T06:00:02Z"), true);
    assert.equal(await claim("b", "2024-01-31T06:00:02Z"), false);
    // A claim that fails deletes nothing: "b", 44 days old, still holds
    // until a new claim is written.
    assert.equal(await claim("b", "2024-03-15T06:00:00Z"), false);
    assert.equal(await claim("d", "2024-03-15T06:00:00Z"), true);
    for (const key of ["a", "b", "c"]) {
      assert.equal(await claim(key, "2024-03-15T06:00:01Z"), true, key);
    }
    assert.equal(await claim("d", "2024-03-15T06:00:01Z"), false);
  });

  if (options.persistent) {
    test(
      "a store opened again reads what an earlier one wrote",
      async (store, env) => {
        const rich = richResult();
        await store.append([record(rich, "2024-12-01T06:00:00Z")]);
        await store.putAlertState(alertState());
        await store.appendDeliveries([
          delivery("2024-12-01T06:00:00.000Z", "ops_slack", true),
        ]);
        await store.close();
        const again = await env.open();
        try {
          assert.deepStrictEqual(await again.history("revenue", 5), [rich]);
          assert.deepStrictEqual(
            await again.getAlertState("revenue", "critical:< 1000"),
            alertState(),
          );
          assert.equal((await again.deliveries("revenue", 5)).length, 1);
          await again.append([
            record(valueResult("revenue", 2), "2024-12-02T00:00:00Z"),
          ]);
          assert.deepStrictEqual(
            (await again.history("revenue", 5)).map((r) => r.value),
            [2, rich.value],
          );
        } finally {
          await again.close();
        }
      },
    );
  }

  test("close() releases the store; using it afterwards fails", async (store) => {
    await store.ping();
    await store.close();
    await store.close();
    await assert.rejects(store.history("revenue", 1), /closed/);
    await assert.rejects(
      store.append([record(valueResult("revenue", 1), "2024-12-01T00:00:00Z")]),
      /closed/,
    );
    await assert.rejects(store.ping(), /closed/);
  });
}
